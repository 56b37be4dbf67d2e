#!/usr/bin/env bash
# System packages the tests need, installed with apt on Debian/Ubuntu. Idempotent: does
# nothing when everything is present.
set -euo pipefail

need=()
command -v python3 >/dev/null || need+=(python3)
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
command -v unzip >/dev/null || need+=(unzip)

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" != 0 ] && sudo="sudo"
  echo "== installing ${need[*]}"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
