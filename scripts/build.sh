#!/usr/bin/env bash
# Configures (once) and builds everything into build/ with the default preset.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_DIR="${CCACHE_DIR:-$PWD/.cache/ccache}"
if [ ! -f build/build.ninja ]; then
  cmake --preset default >/dev/null
fi
cmake --build --preset default -- -j"$(nproc)"
