//! Compile-fail tests of the kernel DSL: one file per rule the macros enforce under
//! `tests/ui/`, each with the error it must produce (`.stderr`, pointing at the offending
//! token and saying what is allowed), and a valid stage + algorithm under `tests/ui/pass/`
//! that must compile and register its variants.
//!
//! The expected `.stderr` files follow the host toolchain's diagnostics; regenerate them with
//! `TRYBUILD=overwrite cargo test -p ferrolite-macros --test ui` and read the diff. This
//! target is named `ui` so that `scripts/test-neon.sh` (another compiler) skips it.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/*.rs");
}
