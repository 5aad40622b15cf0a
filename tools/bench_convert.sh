#!/usr/bin/env bash
# Dataset conversion benchmark (docs/BENCHMARKS.md, "Dataset conversion"): converts ARC-AGI-1
# (training, evaluation, concept; test set evaluation) with num_aug 100 and 1000 and reports wall
# time, peak RSS (/usr/bin/time -v) and bytes on disk. Outputs go to a scratch directory, never
# the repository.
#   tools/bench_convert.sh [BUILD_DIR=build] [ARC_PREFIX=../shared/data/arc/arc-agi] [OUT=/tmp/trm_bench_convert]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
prefix=${2:-$repo/../shared/data/arc/arc-agi}
out=${3:-/tmp/trm_bench_convert}
convert=$build/bin/trm-convert
threads=${THREADS:-2}

[[ -x $convert ]] || { echo "bench_convert: $convert not found; build first (tools/build.sh)" >&2; exit 1; }
[[ -f ${prefix}_training_challenges.json ]] || { echo "bench_convert: no ARC files at ${prefix}_*; see datasets/README.md" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "bench_convert: needs GNU time (apt-get install time)" >&2; exit 1; }

mkdir -p "$out"
echo "# $(date -u +%FT%TZ)  $(nproc) cores  uptime:$(uptime | sed 's/.*load average/ load average/')"
printf '%-8s %10s %10s %12s %12s %12s %12s\n' num_aug wall_s cpu_s peak_rss_MB disk_MB train_rows test_rows
for aug in 100 1000; do
  dir=$out/arc1_aug$aug
  rm -rf "$dir"
  log=$out/arc1_aug$aug.log
  /usr/bin/time -v "$convert" arc --input-prefix "$prefix" --subsets training evaluation concept \
    --test-set evaluation --num-aug "$aug" --seed 42 --threads "$threads" --output "$dir" --quiet >"$log" 2>&1
  wall=$(grep 'Elapsed (wall clock)' "$log" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  cpu=$(awk -F': ' '/User time|System time/ {t += $2} END {printf "%.1f", t}' "$log")
  rss=$(grep 'Maximum resident set size' "$log" | awk '{printf "%.0f", $NF/1024}')
  disk=$(du -sb "$dir" | awk '{printf "%.0f", $1/1e6}')
  train=$(awk '$1=="train" {print $6}' "$log")
  test=$(awk '$1=="test" {print $6}' "$log")
  printf '%-8s %10s %10s %12s %12s %12s %12s\n' "$aug" "$wall" "$cpu" "$rss" "$disk" "$train" "$test"
  rm -rf "$dir"
done
