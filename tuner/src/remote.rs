//! Tuning on another device: push a (cross-compiled) `ferrolite` binary and the model,
//! run `ferrolite tune` there, pull the profile back.
//!
//! Everything goes through one command template that runs a shell command line on the
//! device, with `{}` standing for that command line (quoted as one shell word):
//! `adb shell {}`, `ssh phone {}`, or `sh -c {}` for a local stand-in (with
//! `qemu-aarch64-static` as the run prefix, which is how the flow is tested here). Files
//! travel over the command's stdin and stdout (`cat > FILE`, `cat FILE`), so nothing but a
//! POSIX shell is needed on the device.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How to reach the device.
#[derive(Debug, Clone)]
pub struct Remote {
    /// The command template, with `{}` for the remote command line.
    pub template: String,
    /// Working directory on the device.
    pub dir: String,
    /// Prefix of the remote `ferrolite` invocation (an emulator, `taskset ...`); may be empty.
    pub prefix: String,
}

/// Quotes `s` as one POSIX shell word.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Remote {
    /// The local command that runs `remote_cmd` on the device.
    fn command(&self, remote_cmd: &str) -> Result<Command, String> {
        if !self.template.contains("{}") {
            return Err(format!("--remote {:?}: the template needs a {{}} for the remote command", self.template));
        }
        let line = self.template.replace("{}", &shell_quote(remote_cmd));
        let mut c = Command::new("sh");
        c.arg("-c").arg(line);
        Ok(c)
    }

    /// Runs `remote_cmd` on the device, its output passed through.
    pub fn run(&self, remote_cmd: &str) -> Result<(), String> {
        let status = self.command(remote_cmd)?.status().map_err(|e| format!("cannot start the remote command: {e}"))?;
        if !status.success() {
            return Err(format!("remote command failed ({status}): {remote_cmd}"));
        }
        Ok(())
    }

    /// Copies a local file to `remote_path` on the device (`chmod +x` if `executable`).
    pub fn push(&self, local: &Path, remote_path: &str, executable: bool) -> Result<(), String> {
        let bytes = std::fs::read(local).map_err(|e| format!("{}: {e}", local.display()))?;
        let mut cmd = format!("cat > {}", shell_quote(remote_path));
        if executable {
            cmd.push_str(&format!(" && chmod +x {}", shell_quote(remote_path)));
        }
        let mut child = self
            .command(&cmd)?
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the remote command: {e}"))?;
        child
            .stdin
            .take()
            .ok_or("no stdin for the remote command")?
            .write_all(&bytes)
            .map_err(|e| format!("pushing {}: {e}", local.display()))?;
        let status = child.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("pushing {} to {remote_path} failed ({status})", local.display()));
        }
        Ok(())
    }

    /// Copies `remote_path` from the device to a local file.
    pub fn pull(&self, remote_path: &str, local: &Path) -> Result<(), String> {
        let out = self
            .command(&format!("cat {}", shell_quote(remote_path)))?
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot start the remote command: {e}"))?;
        if !out.status.success() {
            return Err(format!("pulling {remote_path} failed ({})", out.status));
        }
        std::fs::write(local, &out.stdout).map_err(|e| format!("{}: {e}", local.display()))
    }
}

/// A remote tuning run.
#[derive(Debug, Clone)]
pub struct RemoteTune {
    /// The device.
    pub remote: Remote,
    /// The `ferrolite` binary built for the device.
    pub binary: PathBuf,
    /// The model: a local file (pushed) or a zoo name (built on the device).
    pub model: String,
    /// Where the profile lands locally. If it exists, it is pushed first, so an
    /// interrupted remote run resumes.
    pub output: PathBuf,
    /// Further `ferrolite tune` arguments (budget, threads, ...).
    pub args: Vec<String>,
}

impl RemoteTune {
    /// Pushes, runs, pulls.
    pub fn run(&self) -> Result<(), String> {
        let r = &self.remote;
        let dir = r.dir.trim_end_matches('/');
        r.run(&format!("mkdir -p {}", shell_quote(dir)))?;
        let exe = format!("{dir}/ferrolite");
        r.push(&self.binary, &exe, true)?;
        let model_path = Path::new(&self.model);
        let model = if model_path.is_file() {
            let name = model_path.file_name().and_then(|n| n.to_str()).ok_or("model file name is not UTF-8")?;
            let remote_model = format!("{dir}/{name}");
            r.push(model_path, &remote_model, false)?;
            remote_model
        } else {
            self.model.clone()
        };
        let profile = format!("{dir}/profile.yaml");
        if self.output.is_file() {
            r.push(&self.output, &profile, false)?;
        } else {
            r.run(&format!("rm -f {}", shell_quote(&profile)))?;
        }
        let mut cmd = String::new();
        if !r.prefix.is_empty() {
            cmd.push_str(&r.prefix);
            cmd.push(' ');
        }
        cmd.push_str(&shell_quote(&exe));
        for a in ["tune", model.as_str(), "-o", profile.as_str()].iter().copied().chain(self.args.iter().map(String::as_str)) {
            cmd.push(' ');
            cmd.push_str(&shell_quote(a));
        }
        // The remote run's failure still pulls what it saved (the profile is written after
        // every layer), then reports the failure.
        let ran = r.run(&cmd);
        let pulled = r.pull(&profile, &self.output);
        ran.and(pulled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_the_shell() {
        let r = Remote { template: "sh -c {}".into(), dir: String::new(), prefix: String::new() };
        let out = r.command("printf '%s' \"it's\"").unwrap().output().unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), "it's");
        let bad = Remote { template: "sh -c".into(), dir: String::new(), prefix: String::new() };
        assert!(bad.run("true").unwrap_err().contains("{}"));
    }

    #[test]
    fn push_and_pull_through_a_local_stand_in() {
        let dir = std::env::temp_dir().join(format!("ferrolite-remote-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let r = Remote { template: "sh -c {}".into(), dir: dir.display().to_string(), prefix: String::new() };
        let src = dir.join("src.bin");
        std::fs::write(&src, [0u8, 1, 2, 255, b'\'', b'\n']).unwrap();
        let remote_path = dir.join("remote.bin").display().to_string();
        r.push(&src, &remote_path, true).unwrap();
        let back = dir.join("back.bin");
        r.pull(&remote_path, &back).unwrap();
        assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&src).unwrap());
        assert!(r.pull(&dir.join("missing").display().to_string(), &back).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
