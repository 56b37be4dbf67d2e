#!/usr/bin/env bash
# Builds the crates that hold NEON code for aarch64-unknown-linux-gnu and runs their tests
# under qemu-user, so the NEON variants are tested on an x86_64 machine.
#
#   ./scripts/test-neon.sh                                   # the crates in NEON_CRATES below
#   ./scripts/test-neon.sh ferrolite-targets ferrolite-kernels
#
# Toolchain: Debian's rustc-web (/usr/bin/rustc, with its arm64 std from
# libstd-rust-web-dev:arm64), driven by the host's cargo. .cargo/config.toml names the
# linker (aarch64-linux-gnu-gcc) and the runner (qemu-aarch64-static, without -L: the
# arm64 loader and libc come from the multiarch libc6:arm64). scripts/install-deps.sh
# installs all of it. The build goes to target/aarch64 because the compiler differs from
# the host build's.
#
# What runs: each crate's library unit tests and integration tests. Not run:
# - doc tests (host-only, and already run by `cargo test --workspace`);
# - trybuild UI tests, any test target named `ui` or `ui_*`: their expected .stderr
#   files follow the host compiler (rustup's), not Debian's, so they only run on the host.
#   Keep compile-fail tests in such a target.
#
# Environment for the tests: FERROLITE_EXPECT_ISAS=neon (a NEON test that skips is a
# failure), FERROLITE_EXPECT_OPENCL=0 (there is no arm64 OpenCL under qemu; the OpenCL
# tests skip, which also exercises the no-OpenCL-library path).
set -euo pipefail
cd "$(dirname "$0")/.."

# The crates with NEON code. Add a crate here when it gets NEON variants.
NEON_CRATES=(ferrolite-targets)

target=aarch64-unknown-linux-gnu
rustc_bin=/usr/bin/rustc
rustdoc_bin=/usr/bin/rustdoc

crates=("$@")
[ ${#crates[@]} -eq 0 ] && crates=("${NEON_CRATES[@]}")

missing=()
[ -x "$rustc_bin" ] || missing+=("$rustc_bin (rustc-web)")
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=("aarch64-linux-gnu-gcc (gcc-aarch64-linux-gnu)")
command -v qemu-aarch64-static >/dev/null || missing+=("qemu-aarch64-static (qemu-user-static)")
[ -e /lib/ld-linux-aarch64.so.1 ] || missing+=("/lib/ld-linux-aarch64.so.1 (libc6:arm64)")
if [ -x "$rustc_bin" ] && [ ! -d "$("$rustc_bin" --print sysroot)/lib/rustlib/$target/lib" ]; then
  missing+=("the $target standard library (libstd-rust-web-dev:arm64)")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-neon: missing ${missing[*]}; run ./scripts/install-deps.sh" >&2
  exit 1
fi

export RUSTC="$rustc_bin" RUSTDOC="$rustdoc_bin" CARGO_TARGET_DIR=target/aarch64
export FERROLITE_EXPECT_ISAS=neon FERROLITE_EXPECT_OPENCL=0
echo "== NEON: $("$rustc_bin" -V) for $target, tests under $(qemu-aarch64-static --version | head -n1)"

# Test targets per crate, from cargo metadata: the library, and every integration test
# except UI tests.
selection() {
  cargo metadata --format-version 1 --no-deps --locked | python3 -c '
import json, re, sys
name = sys.argv[1]
pkgs = [p for p in json.load(sys.stdin)["packages"] if p["name"] == name]
if not pkgs:
    sys.exit(f"test-neon: no crate {name!r} in the workspace")
args = []
for t in pkgs[0]["targets"]:
    if "lib" in t["kind"] and t.get("test", True):
        args.append("--lib")
    elif "test" in t["kind"] and not re.fullmatch(r"ui(_.*)?", t["name"]):
        args += ["--test", t["name"]]
print(" ".join(args))
' "$1"
}

for crate in "${crates[@]}"; do
  sel=$(selection "$crate")
  if [ -z "$sel" ]; then
    echo "test-neon: $crate has no library or integration tests to run" >&2
    exit 1
  fi
  echo "== NEON: cargo test -p $crate $sel"
  # shellcheck disable=SC2086 # $sel is a list of cargo arguments
  cargo test --locked --target "$target" -p "$crate" $sel
done
