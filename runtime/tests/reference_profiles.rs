//! The reference device profiles in `targets/profiles/` parse, name their device and kernel
//! set, and carry a provenance header.

use ferrolite_runtime::profile::{FORMAT, Profile};

#[test]
fn reference_profiles_load() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../targets/profiles");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# Ferrolite device profile"), "{}: no provenance header", path.display());
        let p = Profile::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(p.format <= FORMAT);
        assert!(!p.device.arch.is_empty() && !p.device.isa.is_empty(), "{}", path.display());
        assert_eq!(p.provenance.kernel_set.len(), 16, "{}", path.display());
        assert!(!p.entries.is_empty(), "{}", path.display());
        for e in &p.entries {
            assert!(e.pick.id.starts_with("f32-conv2d-"), "{}: {}", path.display(), e.pick.id);
        }
        seen += 1;
    }
    assert!(seen > 0, "no profiles in {}", dir.display());
}
