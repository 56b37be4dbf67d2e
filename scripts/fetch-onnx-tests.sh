#!/usr/bin/env bash
# Fetches ONNX's backend conformance cases (Apache-2.0) from the onnx wheels on PyPI into
# .cache/, for converter/tests/onnx_conformance.rs:
#
#   .cache/onnx-node-tests/<case>/                  from onnx==1.22.0 (onnx/backend/test/data/node/),
#                                                   the cases listed in scripts/onnx-node-cases.txt
#   .cache/onnx-pytorch-tests/pytorch-converted/... from onnx==$ONNX_PYTORCH_VERSION
#   .cache/onnx-pytorch-tests/pytorch-operator/...  (the multi-node cases exported from PyTorch)
#
# With --all, every node case of the wheel (about 1,750, most for operators Ferrolite does not
# have) goes to .cache/onnx-node-tests-all instead, for exploring with
# FERROLITE_ONNX_NODE_TESTS=.cache/onnx-node-tests-all.
#
# Needs only python3 with pip (no unzip, no venv): the wheels are downloaded without
# dependencies and read with Python's zipfile module. Wheels are pinned to one platform tag
# so every machine gets the same files (the case data is the same on every platform).
# Idempotent: a set already fetched is left alone unless --force is given or, for the node
# cases, the list has changed since (the .complete stamp records the list's checksum).
#
#   ./scripts/fetch-onnx-tests.sh [--force] [--all]
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION=1.22.0
ONNX_PYTORCH_VERSION=${ONNX_PYTORCH_VERSION:-1.23.2}
DEST=.cache

force=0
all=0
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    --all) all=1 ;;
    *) echo "unknown option: $a" >&2; exit 2 ;;
  esac
done

if ! python3 -m pip --version >/dev/null 2>&1; then
  echo "fetch-onnx-tests: python3 -m pip is not available (Debian: apt-get install python3-pip)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# download VERSION: fetches the onnx wheel of that version into $tmp/VERSION/ and prints its path.
download() {
  local version=$1 dir="$tmp/$1"
  mkdir -p "$dir"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp --abi cp311 \
    -d "$dir" "onnx==$version" >&2
  ls "$dir"/onnx-"$version"-*.whl
}

# extract WHEEL OUT STRIP PREFIX...: copies the wheel members under each PREFIX of
# onnx/backend/test/data/ into OUT, keeping their path below it (below PREFIX with STRIP=1).
# With $CASES set to a file, only the case folders it lists are copied.
extract() {
  python3 - "$@" <<'EOF'
import os, sys, zipfile
wheel, out, strip, prefixes = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4:]
wanted = None
if os.environ.get("CASES"):
    with open(os.environ["CASES"]) as f:
        wanted = {l.strip() for l in f if l.strip() and not l.startswith("#")}
base = "onnx/backend/test/data/"
count = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if info.is_dir() or not any(name.startswith(base + p + "/") for p in prefixes):
            continue
        rel = name[len(base):]
        parts = rel.split("/")[1:] if strip else rel.split("/")
        if wanted is not None and rel.split("/")[1] not in wanted:
            continue
        if any(p in ("", ".", "..") for p in parts):
            raise SystemExit(f"unexpected member name {name!r}")
        target = os.path.join(out, *parts)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, "wb") as dst:
            dst.write(src.read())
        count += 1
if count == 0:
    raise SystemExit(f"{wheel}: no files under {prefixes}")
if wanted is not None:
    got = {n for n in os.listdir(out)}
    missing = sorted(wanted - got)
    if missing:
        raise SystemExit(f"{wheel}: cases not found: {missing}")
print(f"  {count} files")
EOF
}

# stamp VERSION: what .complete holds for a set fetched from onnx==VERSION with the current
# $CASES list (a checksum of the list, so an edited list is fetched again).
stamp() {
  if [ -n "${CASES:-}" ]; then
    echo "onnx==$1 cases-sha256=$(python3 -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$CASES")"
  else
    echo "onnx==$1"
  fi
}

fetch_set() { # NAME VERSION STRIP PREFIX...
  local name=$1 version=$2 strip=$3
  shift 3
  local out="$DEST/$name"
  local want
  want=$(stamp "$version")
  if [ "$force" = 0 ] && [ -f "$out/.complete" ] && [ "$(cat "$out/.complete")" = "$want" ]; then
    echo "== $out already fetched"
    return
  fi
  echo "== fetching onnx==$version into $out"
  local wheel
  wheel=$(download "$version")
  rm -rf "$out.partial"
  mkdir -p "$out.partial"
  extract "$wheel" "$out.partial" "$strip" "$@"
  echo "$want" >"$out.partial/.complete"
  rm -rf "$out"
  mv "$out.partial" "$out"
}

mkdir -p "$DEST"
if [ "$all" = 1 ]; then
  CASES= fetch_set onnx-node-tests-all "$NODE_VERSION" 1 node
else
  CASES=scripts/onnx-node-cases.txt fetch_set onnx-node-tests "$NODE_VERSION" 1 node
fi
fetch_set onnx-pytorch-tests "$ONNX_PYTORCH_VERSION" 0 pytorch-converted pytorch-operator
echo "== done"
