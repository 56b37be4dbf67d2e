#!/usr/bin/env bash
# System packages the tests need, installed with apt on Debian 12 (bookworm), as root or
# through sudo. Idempotent: does nothing when everything is present.
#
# - python3, pip, unzip: fetching and recording test data.
# - NEON variants (scripts/test-neon.sh): Debian's rustc-web with its arm64 standard library
#   (rustup cannot fetch target libraries on machines that reach only package registries),
#   the aarch64 cross linker and libc, qemu-user to run the tests. Needs the arm64 package
#   architecture; the arm64 libc6 provides the loader qemu runs the binaries with. rustc-web
#   must be at least the workspace's rust-version (1.95): bookworm-security has it.
# - OpenCL variants: PoCL (a CPU OpenCL device) and the ICD loader libOpenCL.so.1, which the
#   `opencl` feature of ferrolite-targets loads at run time (no headers or -dev package:
#   nothing links against OpenCL); clinfo to show what the tests will find.
#
# The kernel packages are installed without recommends: rustc-web recommends cargo-web,
# whose /usr/bin/cargo is not the cargo the project builds with.
set -euo pipefail

MIN_RUSTC_WEB=1.95

# Whether package $1 is installed: for NAME:ARCH in that architecture; for a plain NAME in
# the native architecture or as an `all` package (a plain name can match both amd64 and
# arm64 once the arm64 architecture is added).
installed() {
  local name=${1%%:*} arch=${1#*:}
  [ "$arch" = "$1" ] && arch=$(dpkg --print-architecture)
  local status
  status=$(dpkg-query -W -f='${Architecture} ${db:Status-Status}\n' "$name" 2>/dev/null) || return 1
  grep -qE "^($arch|all) installed$" <<<"$status"
}

# Whether /usr/bin/rustc is rustc-web at version >= $MIN_RUSTC_WEB.
rustc_web_recent() {
  local v
  v=$(/usr/bin/rustc -V 2>/dev/null | awk '{print $2}') || return 1
  [ -n "$v" ] && [ "$(printf '%s\n%s\n' "$MIN_RUSTC_WEB" "$v" | sort -V | head -n1)" = "$MIN_RUSTC_WEB" ]
}

base=()
command -v python3 >/dev/null || base+=(python3)
python3 -m pip --version >/dev/null 2>&1 || base+=(python3-pip)
command -v unzip >/dev/null || base+=(unzip)

kernel_pkgs=(
  # NEON: compiler + arm64 std, cross linker + libc, emulator and the arm64 loader
  rustc-web libstd-rust-web-dev libstd-rust-web-dev:arm64
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  qemu-user-static libc6:arm64
  # OpenCL: the PoCL CPU device, the ICD loader, and clinfo
  pocl-opencl-icd ocl-icd-libopencl1 clinfo
)
kernel=()
for p in "${kernel_pkgs[@]}"; do
  installed "$p" || kernel+=("$p")
done
# An older rustc-web (bookworm's own 1.85) is upgraded together with its standard libraries,
# which must have the same version.
if [ ${#kernel[@]} -eq 0 ] && ! rustc_web_recent; then
  kernel+=(rustc-web libstd-rust-web-dev libstd-rust-web-dev:arm64)
fi

add_arm64=0
dpkg --print-foreign-architectures | grep -qx arm64 || add_arm64=1

if [ ${#base[@]} -gt 0 ] || [ ${#kernel[@]} -gt 0 ] || [ "$add_arm64" = 1 ]; then
  sudo=""
  [ "$(id -u)" != 0 ] && sudo="sudo"
  if [ "$add_arm64" = 1 ]; then
    echo "== adding the arm64 package architecture"
    $sudo dpkg --add-architecture arm64
  fi
  $sudo apt-get update -qq
  if [ ${#base[@]} -gt 0 ]; then
    echo "== installing ${base[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${base[@]}"
  fi
  if [ ${#kernel[@]} -gt 0 ]; then
    echo "== installing ${kernel[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${kernel[@]}"
  fi
fi

if ! rustc_web_recent; then
  echo "install-deps: /usr/bin/rustc is $(/usr/bin/rustc -V 2>/dev/null || echo missing), need rustc-web >= $MIN_RUSTC_WEB" \
       "(from bookworm-security: is it in the apt sources?)" >&2
  exit 1
fi
