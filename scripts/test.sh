#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh machine, then runs every test.
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

echo "== cargo test (workspace)"
cargo test --workspace --locked
