#!/usr/bin/env bash
# Step benchmarks (docs/BENCHMARKS.md): the model step (bench-model-step, C1..C5, 2 threads) and
# the full training step (bench-train-step) at np=1 x 2 threads and np=2 x 1 thread, C1..C5.
# Run by hand on a quiet machine; prints the load before and after, since two OpenMP threads on a
# busy 2-core machine are several times slower than on an idle one.
#   tools/bench_steps.sh [BUILD_DIR=build] [STEPS=5]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
steps=${2:-5}
configs=(C1 C2 C3 C4 C5)
for b in bench-model-step bench-train-step; do
  [[ -x $build/bin/$b ]] || { echo "bench_steps: $build/bin/$b not found; build first (tools/build.sh)" >&2; exit 1; }
done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

echo "# $(date -u +%FT%TZ)  $(nproc) cores  load:$(cut -d' ' -f1-3 /proc/loadavg)  $(git -C "$repo" rev-parse --short HEAD)"
"$build/bin/bench-model-step" --threads 2 --warmup 2 --steps "$((steps * 2))" "${configs[@]}"
for c in "${configs[@]}"; do
  "$build/bin/bench-train-step" --config "$c" --threads 2 --steps "$steps"
  mpirun --oversubscribe -np 2 "$build/bin/bench-train-step" --config "$c" --threads 1 --steps "$steps"
done
echo "# done $(date -u +%FT%TZ)  load:$(cut -d' ' -f1-3 /proc/loadavg)"
