#!/usr/bin/env bash
# Installs the Debian 12 packages Tether builds and tests with, only when one is missing.
# Idempotent; needs root (or sudo) only when something must be installed.
set -euo pipefail

packages=(
  build-essential clang-16 cmake ninja-build ccache pkg-config git
  libboost1.81-dev libssl-dev libuv1-dev nlohmann-json3-dev libcli11-dev
  libspdlog-dev libfmt-dev libsqlite3-dev libgtest-dev libgmock-dev
  libtomlplusplus-dev python3 python3-jsonschema python3-yaml iproute2 procps
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "Installing missing packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
