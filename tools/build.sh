#!/usr/bin/env bash
# Configures and builds trm-dist (Release) into ${TRM_BUILD_DIR:-build}; programs land in build/bin/.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${TRM_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@" > "$build_dir.configure.log" 2>&1 \
  || { cat "$build_dir.configure.log"; exit 1; }
grep -E "^-- trm-dist:" "$build_dir.configure.log" || true
cmake --build "$build_dir" -j"$(nproc)"
