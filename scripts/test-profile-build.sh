#!/usr/bin/env bash
# End-to-end test of build-time pruning (FERROLITE_PROFILE, docs/tuning.md "Build time"):
#
#  1. builds `ferrolite` and the example app (runtime/examples/app.rs) with every variant;
#  2. converts a model and tunes it with `ferrolite tune` (a short budget), then replaces
#     the first GEMM pick by a variant with non-default compile parameters, so that the test
#     always covers a variant that only the profile keeps;
#  3. builds the app again with FERROLITE_PROFILE set, in its own target directory;
#  4. checks that the pruned app contains exactly the picked variants plus the default-
#     parameter ones for the profile's ISAs and scalar (so non-picked, non-default ones
#     such as f32-conv2d-gemm-mr8-nv3-avx2 are gone), that it plans with its built-in
#     profile exactly as the full app plans with the same profile given at run time
#     (same variant, parameters and reason per step), and that both compute bit-identical
#     outputs;
#  5. prints both binaries' sizes.
#
#   ./scripts/test-profile-build.sh [MODEL.onnx|MODEL.tflite]
#
# Environment: FERROLITE_BUILD_PROFILE (cargo profile, default release),
# FERROLITE_PRUNED_TARGET_DIR (default target/profile-build), CARGO_TARGET_DIR (the full
# build's, default target), FERROLITE_TUNE_BUDGET (seconds, default 5).
set -euo pipefail
cd "$(dirname "$0")/.."

model_src=${1:-testdata/models/mediapipe_face_detection_short_range/model.tflite}
build_profile=${FERROLITE_BUILD_PROFILE:-release}
full_target=${CARGO_TARGET_DIR:-target}
pruned_target=${FERROLITE_PRUNED_TARGET_DIR:-target/profile-build}
budget=${FERROLITE_TUNE_BUDGET:-5}
# Cargo puts the dev and test profiles in `debug`, the others under their own name.
case "$build_profile" in
  dev | test) out_dir=debug ;;
  *) out_dir=$build_profile ;;
esac
work="$pruned_target/work"
mkdir -p "$work"
profile="$(cd "$work" && pwd)/profile.yaml"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

start=$SECONDS
echo "== full build (every variant): ferrolite and the example app ($build_profile)"
env -u FERROLITE_PROFILE cargo build --locked --profile "$build_profile" -p ferrolite-cli
env -u FERROLITE_PROFILE cargo build --locked --profile "$build_profile" -p ferrolite-runtime --example app
ferrolite="$full_target/$out_dir/ferrolite"
full_app="$full_target/$out_dir/examples/app"

echo "== convert $model_src and tune it (${budget} s)"
"$ferrolite" convert "$model_src" -o "$work/model.flm"
rm -f "$work/tuned.yaml"
"$ferrolite" tune "$work/model.flm" --budget "$budget" -o "$work/tuned.yaml"

# The first GEMM pick becomes GEMM mr4-nv3 on the same ISA (every GEMM variant runs every
# dense convolution).
awk '
  /^  pick:$/ { print; in_pick = 1; next }
  in_pick && /^    id: / {
    in_pick = 0
    if (!done && $2 ~ /-conv2d-gemm-/) {
      isa = $2; sub(/.*-/, "", isa)
      print "    id: f32-conv2d-gemm-mr4-nv3-" isa
      done = 1
      next
    }
  }
  { print }
' "$work/tuned.yaml" > "$work/profile.new"
# Rewritten only when it changed: the build script reruns when the file's time changes.
if ! cmp -s "$work/profile.new" "$profile"; then mv "$work/profile.new" "$profile"; fi

picks=$(awk '/^  pick:$/ { p = 1; next } p && /^    id: / { print $2; p = 0 }' "$profile" | sort -u)
isas=$( (awk '/^  isa:$/ { i = 1; next } i && /^  - / { print $2; next } { i = 0 }' "$profile"; echo scalar) | sort -u)
forced=$(awk '/^  pick:$/ { p = 1; next } p && /^    id: / { print $2; p = 0 }' "$profile" | grep -m1 -- '-conv2d-gemm-' || true)
[ -n "$forced" ] || fail "the tuned profile has no GEMM pick to replace ($model_src has no dense convolution?)"
echo "picks: $(echo "$picks" | tr '\n' ' ')"
echo "ISAs kept with default parameters: $(echo "$isas" | tr '\n' ' ')"

echo "== pruned build: FERROLITE_PROFILE=$profile (target dir $pruned_target)"
FERROLITE_PROFILE="$profile" CARGO_TARGET_DIR="$pruned_target" \
  cargo build --locked --profile "$build_profile" -p ferrolite-runtime --example app
pruned_app="$pruned_target/$out_dir/examples/app"

echo "== checks"
"$full_app" --list > "$work/full.list"
"$pruned_app" --list > "$work/pruned.list"
[ "$(head -1 "$work/full.list")" = "$(head -1 "$work/pruned.list")" ] \
  || fail "the kernel-set checksum differs: $(head -1 "$work/full.list") vs $(head -1 "$work/pruned.list")"
grep -q "^$forced " "$work/full.list" || fail "$forced is not a variant of this build"
grep -qx "$forced [a-z0-9]* default" "$work/full.list" && fail "$forced has default parameters; the test needs one that has not"
for id in $picks; do
  grep -q "^$id " "$work/full.list" || fail "the profile picks $id, which this build does not have"
done
# What the pruned build must hold: the picks, and the default-parameter variants of its ISAs.
tail -n +2 "$work/full.list" | while read -r id target default; do
  if echo "$picks" | grep -qx -- "$id"; then echo "$id"
  elif [ "$default" = default ] && echo "$isas" | grep -qx -- "$target"; then echo "$id"
  fi
done | sort > "$work/expected.ids"
tail -n +2 "$work/pruned.list" | cut -d' ' -f1 | sort > "$work/pruned.ids"
if ! diff -u "$work/expected.ids" "$work/pruned.ids"; then
  fail "the pruned build's variants (+) are not the picks plus the defaults of [$(echo "$isas" | tr '\n' ' ')] (-)"
fi
full_n=$(($(wc -l < "$work/full.list") - 1))
pruned_n=$(wc -l < "$work/pruned.ids")
[ "$pruned_n" -lt "$full_n" ] || fail "nothing was pruned ($pruned_n of $full_n variants)"
absent=$(awk 'FNR == NR { kept[$1] = 1; next } FNR > 1 && $3 != "default" && !($1 in kept) { print $1; exit }' \
  "$work/pruned.ids" "$work/full.list")
echo "ok: $pruned_n of $full_n variants; picked $forced present, e.g. $absent absent"

# The full app given the profile at run time and the pruned app with its built-in one plan
# and compute the same.
"$full_app" "$work/model.flm" --plan --profile "$profile" > "$work/full.out" 2> "$work/full.err"
"$pruned_app" "$work/model.flm" --plan > "$work/pruned.out" 2> "$work/pruned.err"
[ ! -s "$work/pruned.err" ] || fail "the pruned app warned: $(cat "$work/pruned.err")"
[ ! -s "$work/full.err" ] || fail "the full app warned: $(cat "$work/full.err")"
grep -q '^profile: [0-9]* entries' "$work/pruned.out" || fail "the pruned app does not use its built-in profile: $(head -1 "$work/pruned.out")"
diff -u "$work/full.out" "$work/pruned.out" || fail "the pruned app's plan or outputs differ from the full app's with the same profile"
grep -q ": $forced \[.*\] (profile)$" "$work/pruned.out" || fail "no step runs the picked $forced by the profile"
echo "ok: $(grep -c '(profile' "$work/pruned.out") steps from the profile, same plan and bit-identical outputs"

size() { if command -v strip > /dev/null; then strip -o "$work/stripped" "$1" && wc -c < "$work/stripped"; else wc -c < "$1"; fi; }
full_size=$(size "$full_app")
pruned_size=$(size "$pruned_app")
echo "app size (stripped): every variant $full_size bytes, pruned $pruned_size bytes ($((100 * pruned_size / full_size))%)"
echo "== profile build test passed in $((SECONDS - start)) s"
