#!/usr/bin/env bash
# README command (2): install what is missing, build (Release), run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_debian.sh
bash tools/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --test-dir "${TRM_BUILD_DIR:-build}" --output-on-failure "$@"
