//! Build-time pruning of kernel variants: `FERROLITE_PROFILE=<profile.yaml> cargo build`
//! compiles only the variants an app needs (see `docs/tuning.md`, "Build time").
//!
//! This script only reads the profile and hands its decisions to the `#[algorithm]` macro
//! as `cfg`s (the macro is the one that knows every variant id, its ISA and whether its
//! compile-time parameters are the defaults):
//!
//! - `ferrolite_pruned`: pruning is on. Without it every variant is compiled.
//! - `ferrolite_keep = "<variant id>"`: a variant the profile picks for some layer.
//! - `ferrolite_keep_isa = "<isa>"`: the default-parameter variant of every algorithm on
//!   this ISA is kept as the fallback, so the heuristic still has each algorithm for
//!   layers the profile never saw. The ISAs are the profile's `device.isa` plus `scalar`
//!   (always), and `opencl` when the profile records an OpenCL device.
//!
//! The `all-variants` feature (the `ferrolite` tool enables it, since it lists and tunes
//! every variant) turns pruning off whatever the environment says.
//!
//! A relative `FERROLITE_PROFILE` is taken from the workspace root (the nearest directory
//! above this crate whose `Cargo.toml` has a `[workspace]` table). A profile that cannot be
//! read or parsed stops the build with the path and the reason.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The part of a device profile (`ferrolite_runtime::profile::Profile`) pruning needs.
#[derive(Deserialize)]
struct Profile {
    #[serde(default)]
    device: Device,
    #[serde(default)]
    entries: Vec<Entry>,
}

#[derive(Deserialize, Default)]
struct Device {
    #[serde(default)]
    isa: Vec<String>,
    /// Present when the profile measured OpenCL variants.
    #[serde(default)]
    opencl: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct Entry {
    pick: Pick,
}

#[derive(Deserialize)]
struct Pick {
    id: String,
}

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=FERROLITE_PROFILE");
    // Declared in every build, so that the macro's `cfg`s never warn.
    println!("cargo::rustc-check-cfg=cfg(ferrolite_pruned)");
    println!("cargo::rustc-check-cfg=cfg(ferrolite_keep, values(any()))");
    println!("cargo::rustc-check-cfg=cfg(ferrolite_keep_isa, values(any()))");

    let Some(path) = std::env::var_os("FERROLITE_PROFILE").filter(|v| !v.is_empty()) else {
        return;
    };
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let path = resolve(Path::new(&path), &manifest_dir);
    println!("cargo::rerun-if-changed={}", path.display());
    // Read even when nothing is pruned: a broken profile is an error in every build.
    let profile = read(&path);
    if std::env::var_os("CARGO_FEATURE_ALL_VARIANTS").is_some() {
        return;
    }

    let mut keep: Vec<&str> = profile.entries.iter().map(|e| e.pick.id.as_str()).collect();
    keep.sort_unstable();
    keep.dedup();
    let mut isas: Vec<&str> = profile.device.isa.iter().map(String::as_str).chain(["scalar"]).collect();
    if profile.device.opencl.is_some() {
        isas.push("opencl");
    }
    isas.sort_unstable();
    isas.dedup();
    for name in keep.iter().chain(&isas) {
        // The names become string literals of `--cfg` flags.
        let plain = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !plain {
            panic!(
                "FERROLITE_PROFILE={}: \"{name}\" is not a variant id or ISA name (letters, digits, `-` and `_` only)",
                path.display()
            );
        }
    }
    println!("cargo::rustc-cfg=ferrolite_pruned");
    for id in &keep {
        println!("cargo::rustc-cfg=ferrolite_keep=\"{id}\"");
    }
    for isa in &isas {
        println!("cargo::rustc-cfg=ferrolite_keep_isa=\"{isa}\"");
    }
    println!(
        "cargo::warning=FERROLITE_PROFILE={}: compiling the {} picked kernel variants plus the default-parameter ones for {}",
        path.display(),
        keep.len(),
        isas.join(", ")
    );
}

/// `path` as given, or taken from the workspace root when relative.
fn resolve(path: &Path, manifest_dir: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    let root = manifest_dir.ancestors().find(|dir| {
        std::fs::read_to_string(dir.join("Cargo.toml"))
            .is_ok_and(|toml| toml.lines().any(|line| line.trim() == "[workspace]"))
    });
    match root {
        Some(root) => root.join(path),
        None => panic!(
            "FERROLITE_PROFILE={} is relative and there is no workspace above {} to take it from; give an absolute path",
            path.display(),
            manifest_dir.display()
        ),
    }
}

fn read(path: &Path) -> Profile {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("FERROLITE_PROFILE={}: cannot read the profile: {e}", path.display()));
    serde_norway::from_str(&text)
        .unwrap_or_else(|e| panic!("FERROLITE_PROFILE={}: not a Ferrolite device profile: {e}", path.display()))
}
