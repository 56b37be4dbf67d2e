//! Bakes a device profile into the runtime: with `FERROLITE_PROFILE=<profile.yaml>` at build
//! time, the file is copied to `OUT_DIR/profile.yaml` (less each entry's losing candidates,
//! `others`, which only reports use), embedded by
//! `ferrolite_runtime::profile::builtin`, and used by sessions given no profile of their own
//! (`cfg(ferrolite_builtin_profile)`). ferrolite-kernels' build script reads the same
//! variable to compile only the variants the profile needs; both take a relative path from
//! the workspace root (see `docs/tuning.md`, "Build time").

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=FERROLITE_PROFILE");
    println!("cargo::rustc-check-cfg=cfg(ferrolite_builtin_profile)");

    let Some(path) = std::env::var_os("FERROLITE_PROFILE").filter(|v| !v.is_empty()) else {
        return;
    };
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let path = resolve(Path::new(&path), &manifest_dir);
    println!("cargo::rerun-if-changed={}", path.display());
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("FERROLITE_PROFILE={}: cannot read the profile: {e}", path.display()));
    let mut profile: serde_norway::Value = serde_norway::from_str(&text)
        .unwrap_or_else(|e| panic!("FERROLITE_PROFILE={}: not a Ferrolite device profile: {e}", path.display()));
    // Sessions read each entry's key and pick; the candidates that lost (`others`) are for
    // reports and can be most of the file (a suite profile: 850 KB, 100 KB without them).
    if let Some(entries) = profile.get_mut("entries").and_then(serde_norway::Value::as_sequence_mut) {
        for entry in entries.iter_mut().filter_map(serde_norway::Value::as_mapping_mut) {
            entry.remove("others");
        }
    }
    let compact = serde_norway::to_string(&profile)
        .unwrap_or_else(|e| panic!("FERROLITE_PROFILE={}: cannot re-serialize the profile: {e}", path.display()));
    let copy = out_dir.join("profile.yaml");
    std::fs::write(&copy, compact).unwrap_or_else(|e| panic!("cannot write {}: {e}", copy.display()));
    println!("cargo::rustc-cfg=ferrolite_builtin_profile");
    // Named in the message when the embedded profile turns out not to be usable.
    println!("cargo::rustc-env=FERROLITE_BUILTIN_PROFILE={}", path.display());
}

/// `path` as given, or taken from the workspace root when relative (the same rule as
/// ferrolite-kernels' build script).
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
