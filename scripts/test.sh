#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh machine, then runs every test:
# the workspace's tests on this machine (the CPU variants its CPU has and the OpenCL
# variants on PoCL, both required), then the NEON variants under qemu (scripts/test-neon.sh).
#
#   ./scripts/test.sh            # everything
#   ./scripts/test.sh --no-deps  # skip installing system packages and test data
#
# Needs: the Rust toolchain (cargo), python3 with pip (to fetch ONNX's conformance cases
# from PyPI when ../shared/onnx-node-tests is absent). Run as root or with sudo for apt.
set -euo pipefail
cd "$(dirname "$0")/.."

deps=1
for a in "$@"; do
  case "$a" in
    --no-deps) deps=0 ;;
    *) echo "unknown option: $a" >&2; exit 2 ;;
  esac
done

if [ "$deps" = 1 ]; then
  ./scripts/install-deps.sh
  ./scripts/fetch-onnx-tests.sh
fi

# What this machine must be able to run, so that a kernel variant or OpenCL test that
# cannot run here fails instead of skipping: the x86 ISAs its CPU reports, and an OpenCL
# device (PoCL, which install-deps.sh installs).
isas=()
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then isas+=(avx2); fi
if grep -qw avx512f /proc/cpuinfo; then isas+=(avx512f); fi
FERROLITE_EXPECT_ISAS=$(IFS=,; echo "${isas[*]}")
export FERROLITE_EXPECT_ISAS FERROLITE_EXPECT_OPENCL=1

echo "== cargo test (workspace; FERROLITE_EXPECT_ISAS=$FERROLITE_EXPECT_ISAS FERROLITE_EXPECT_OPENCL=1)"
cargo test --workspace --locked

# NEON variants, cross-compiled for aarch64 and run under qemu-user (it sets its own
# FERROLITE_EXPECT_ISAS=neon and FERROLITE_EXPECT_OPENCL=0).
echo "== NEON tests (scripts/test-neon.sh)"
./scripts/test-neon.sh
