#!/usr/bin/env bash
# Builds the crates that hold NEON code for aarch64-unknown-linux-gnu and runs their tests
# under qemu-user, so the NEON variants are tested on an x86_64 machine.
#
#   ./scripts/test-neon.sh                                   # what NEON_TESTS below lists
#   ./scripts/test-neon.sh ferrolite-targets ferrolite-kernels
#   ./scripts/test-neon.sh ferrolite-runtime:variants        # only these test targets
#
# Each argument is a crate (its library unit tests and every integration test but UI
# tests), `crate:integration` (every integration test but UI tests, not the library) or
# `crate:t1,t2` (only those test targets; `lib` is the library's unit tests).
#
# Toolchain: Debian's rustc-web (/usr/bin/rustc, with its arm64 std from
# libstd-rust-web-dev:arm64), driven by the host's cargo. .cargo/config.toml names the
# linker (aarch64-linux-gnu-gcc) and the runner (qemu-aarch64-static, without -L: the
# arm64 loader and libc come from the multiarch libc6:arm64). scripts/install-deps.sh
# installs all of it. The build goes to target/aarch64 because the compiler differs from
# the host build's.
#
# What runs: by default each crate's library unit tests and integration tests. Not run:
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

# What to test: the crates with NEON code, and the runtime's test of every kernel variant
# against the reference operators (only that one: the runtime's other tests hold no NEON
# code and would only make this run slower). The kernels' library unit tests check host-side
# math (transform matrices) and would cost a second build of the whole kernels crate under
# cfg(test), so only their integration tests run here. Add a crate when it gets NEON code.
NEON_TESTS=(ferrolite-targets ferrolite-kernels:integration ferrolite-runtime:variants)

target=aarch64-unknown-linux-gnu
rustc_bin=/usr/bin/rustc
rustdoc_bin=/usr/bin/rustdoc

crates=("$@")
[ ${#crates[@]} -eq 0 ] && crates=("${NEON_TESTS[@]}")

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
# The test profile is optimized (qemu runs it at a fraction of native speed); its debug info
# only makes the cross build and link slower here.
export CARGO_PROFILE_TEST_DEBUG=false CARGO_PROFILE_DEV_DEBUG=false
export FERROLITE_EXPECT_ISAS=neon FERROLITE_EXPECT_OPENCL=0
echo "== NEON: $("$rustc_bin" -V) for $target, tests under $(qemu-aarch64-static --version | head -n1)"

# The cargo invocations for the specs: each spec's test targets, from cargo metadata (by
# default the library and every integration test except UI tests; `crate:integration` every
# integration test but not the library; `crate:t1,t2` exactly those, `lib` being the
# library), grouped into as few `cargo test` runs as select exactly those targets. One run for
# several crates builds their shared dependencies once: separate runs resolve features per
# run and rebuild them. One line per run: its cargo arguments.
invocations() {
  cargo metadata --format-version 1 --no-deps --locked | python3 -c '
import json, re, sys
packages = {p["name"]: p for p in json.load(sys.stdin)["packages"]}
wanted = {}  # crate -> set of ("lib", None) / ("test", name)
order = []
for spec in sys.argv[1:]:
    name, _, which = spec.partition(":")
    if name not in packages:
        sys.exit(f"test-neon: no crate {name!r} in the workspace")
    targets = packages[name]["targets"]
    has_lib = any("lib" in t["kind"] and t.get("test", True) for t in targets)
    tests = [t["name"] for t in targets if "test" in t["kind"]]
    integration = {("test", t) for t in tests if not re.fullmatch(r"ui(_.*)?", t)}
    sel = set()
    if not which:
        sel = integration | ({("lib", None)} if has_lib else set())
    for w in [w for w in which.split(",") if w]:
        if w == "integration":
            sel |= integration
        elif w == "lib" and has_lib:
            sel.add(("lib", None))
        elif w in tests:
            sel.add(("test", w))
        else:
            have = ", ".join(["lib"] * has_lib + ["integration"] + tests)
            sys.exit(f"test-neon: {name} has no test target {w!r} (it has: {have})")
    if not sel:
        sys.exit(f"test-neon: {name} has no library or integration tests to run")
    if name not in wanted:
        order.append(name)
    wanted.setdefault(name, set()).update(sel)

def selects(group):
    # What `cargo test -p A -p B ... <flags>` runs: every flag applies to every package.
    flags = set().union(*(wanted[n] for n in group))
    out = {}
    for n in group:
        targets = packages[n]["targets"]
        has_lib = any("lib" in t["kind"] and t.get("test", True) for t in targets)
        tests = {t["name"] for t in targets if "test" in t["kind"]}
        out[n] = {f for f in flags if (f[0] == "lib" and has_lib) or (f[0] == "test" and f[1] in tests)}
    return flags, out

groups = []
for n in order:
    for g in groups:
        if all(sel == wanted[m] for m, sel in selects(g + [n])[1].items()):
            g.append(n)
            break
    else:
        groups.append([n])
for g in groups:
    flags, _ = selects(g)
    args = [a for n in g for a in ("-p", n)]
    args += ["--lib"] if ("lib", None) in flags else []
    args += [a for f in sorted(x for x in flags if x[0] == "test") for a in ("--test", f[1])]
    print(" ".join(args))
' "$@"
}

runs=$(invocations "${crates[@]}")
while read -r args; do
  echo "== NEON: cargo test $args"
  start=$SECONDS
  # shellcheck disable=SC2086 # $args is a list of cargo arguments
  cargo test --locked --target "$target" $args
  echo "== NEON: that took $((SECONDS - start)) s"
done <<<"$runs"

# The remote tuning flow, end to end, with qemu standing in for an aarch64 phone: the host
# `ferrolite` pushes the aarch64 `ferrolite` and a model into a directory "on the device"
# (`sh -c {}`), runs `ferrolite tune` there under qemu-aarch64-static and pulls the profile
# back. Only with the default test set (not when testing chosen crates).
if [ $# -eq 0 ]; then
  echo "== NEON: remote tuning through qemu-aarch64-static"
  start=$SECONDS
  cargo build --locked --target "$target" --profile test -p ferrolite-cli
  device_bin="$CARGO_TARGET_DIR/$target/debug/ferrolite"
  host_bin="${FERROLITE_HOST_BIN:-target/debug/ferrolite}"
  if [ ! -x "$host_bin" ]; then
    (unset RUSTC RUSTDOC CARGO_TARGET_DIR; cargo build --locked --profile test -p ferrolite-cli)
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  "$host_bin" tune testdata/models/mediapipe_face_detection_short_range/model.tflite --budget 20 \
    -o "$work/phone.yaml" --remote 'sh -c {}' --remote-binary "$device_bin" \
    --remote-dir "$work/device" --remote-prefix qemu-aarch64-static
  python3 - "$work/phone.yaml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
assert re.search(r"^  arch: aarch64$", text, re.M), "the profile was not measured on aarch64"
assert re.search(r"^  - neon$", text, re.M), "the aarch64 profile lists no NEON"
picks = re.findall(r"^    id: (\S+)$", text, re.M)
assert picks, "no entries in the pulled profile"
bad = [p for p in picks if not p.endswith(("-neon", "-scalar"))]
assert not bad, f"picks that cannot run on aarch64: {bad}"
print(f"remote profile: {len(picks)} entries, all NEON/scalar picks")
PY
  echo "== NEON: that took $((SECONDS - start)) s"
fi
