#!/usr/bin/env bash
# README command (1): install, build, then the demo: generate 6x6 Sudoku (2x3 boxes, 20 blanks,
# unique solutions; 3000 training puzzles with 9 augmented variants each, 500 held-out), train a
# small TRM with `mpirun -np 2` on CPU, evaluate on the held-out puzzles and print the exact
# accuracy next to the copy-input baseline, then write the report page (training curves and a
# sample of held-out puzzles) with trm-eval --save-outputs and trm-report. Everything is left in
# runs/demo/ (dataset, train.log, metrics.jsonl, checkpoint step_*.h5, eval_step_*/,
# report.html).
# Environment: TRM_DEMO_SKIP_SETUP=1 / TRM_DEMO_SKIP_BUILD=1 skip those steps; TRM_BUILD_DIR
# (default build) and TRM_DEMO_DIR (default runs/demo) choose the folders; extra arguments are
# passed to trm-dist as key=value overrides.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ "${TRM_DEMO_SKIP_SETUP:-0}" == 1 ]] || bash tools/setup_debian.sh
build_dir=${TRM_BUILD_DIR:-build}
if [[ "${TRM_DEMO_SKIP_BUILD:-0}" != 1 ]]; then
  # Only the programs the demo runs (the full build with tests is README command 2).
  mkdir -p "$build_dir"
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release > "$build_dir.configure.log" 2>&1 \
    || { cat "$build_dir.configure.log"; exit 1; }
  cmake --build "$build_dir" -j"$(nproc)" --target trm-dist trm-convert trm-eval trm-report
fi
bin=$build_dir/bin
out=${TRM_DEMO_DIR:-runs/demo}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1

rm -rf "$out"
mkdir -p "$out"
echo "== generating 6x6 Sudoku into $out/data"
"$bin/trm-convert" sudoku --generate 3000 --size 6 --blanks 20 --test 500 --num-aug 9 --seed 1 \
  --output "$out/data" --quiet

echo "== training on 2 MPI ranks (CPU, 1 thread each); progress every 50 steps"
start=$(date +%s)
mpirun --oversubscribe -np 2 "$bin/trm-dist" --config configs/demo_sudoku6.toml \
  "data_paths=[\"$out/data\"]" "checkpoint_path=$out" "$@" | grep --line-buffered -v -e '^[A-Za-z_0-9]* = ' -e '^\[' -e '^#' -e '^$' \
  | tee "$out/train.log"
seconds=$(( $(date +%s) - start ))

result=$(grep '^eval @' "$out/train.log" | tail -1)
exact=$(sed -n 's/.*exact_accuracy \([0-9.]*\).*/\1/p' <<< "$result")
copy=$(sed -n 's/.*copy-input baseline \([0-9.]*\).*/\1/p' <<< "$result")
echo
echo "== demo result (training + evaluation: ${seconds} s)"
awk -v e="$exact" -v c="$copy" 'BEGIN {
  printf "held-out exact accuracy (500 puzzles): %.1f%%   copy-input baseline: %.1f%%\n", 100 * e, 100 * c }'
echo "dataset: $out/data   log: $out/train.log   metrics: $out/metrics.jsonl   checkpoint: $(ls "$out"/step_*.h5 | tail -1)"

echo
echo "== report: held-out predictions (trm-eval --save-outputs) and the page (trm-report)"
mpirun --oversubscribe -np 2 "$bin/trm-eval" --checkpoint "$out" --save-outputs > "$out/eval.log"
"$bin/trm-report" "$out" --title "trm-dist demo: 6x6 Sudoku"
