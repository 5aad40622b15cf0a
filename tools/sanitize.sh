#!/usr/bin/env bash
# The sanitizer check (docs/RELIABILITY.md): configures a separate AddressSanitizer +
# UndefinedBehaviorSanitizer build (${TRM_SANITIZE_BUILD_DIR:-build-sanitize}, -DTRM_SANITIZE=...),
# builds the library, programs and tests, and runs the unit and dist labels under it. Leaks are
# detected; UB and ASan errors are fatal; tools/sanitize/*.supp suppress only one-time allocations
# inside Open MPI / PMIx / hwloc / libgomp / LibTorch, never our code.
#   bash tools/sanitize.sh                       # everything (cold: long, see docs/RELIABILITY.md)
#   bash tools/sanitize.sh -R test_ckpt_store    # extra arguments go to both ctest runs
# TRM_SANITIZE (default address,undefined) chooses the sanitizers, TRM_JOBS the build jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
build_dir=${TRM_SANITIZE_BUILD_DIR:-build-sanitize}
sanitize=${TRM_SANITIZE:-address,undefined}
jobs=${TRM_JOBS:-$(nproc)}

# RelWithDebInfo: -O2 keeps the tests' run time bearable, -g gives reports file:line.
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRM_SANITIZE="$sanitize" \
  -DTRM_BUILD_BENCH=OFF > "$build_dir.configure.log" 2>&1 \
  || { cat "$build_dir.configure.log"; exit 1; }
grep -E "^-- trm-dist:" "$build_dir.configure.log" || true
cmake --build "$build_dir" -j"$jobs"

supp=$repo/tools/sanitize
# detect_leaks: LeakSanitizer at every process exit (each MPI rank included).
# halt_on_error / -fno-sanitize-recover: the first report fails the test.
# detect_container_overflow=0: LibTorch and Open MPI are not instrumented, so std::vector
#   annotations could only be half-seen across the boundary (libstdc++ adds none by default).
export ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:halt_on_error=1:abort_on_error=0:print_stacktrace=1:\
detect_container_overflow=0:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:report_error_type=1:\
suppressions=$supp/ubsan.supp"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

status=0
for label in unit dist; do
  echo "sanitize: ctest -L $label ($sanitize)"
  ctest --test-dir "$build_dir" -L "$label" --output-on-failure "$@" || status=1
done
if ((status == 0)); then echo "sanitize: clean ($sanitize)"; else echo "sanitize: FAILED"; fi
exit $status
