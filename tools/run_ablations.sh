#!/usr/bin/env bash
# The CPU-scale ablation study of docs/ABLATIONS.md: generate 6x6 Sudoku once, then train every
# variant (TRM, 1-step gradient, separate networks, single z, multi-scale z, ACT with Q-continue,
# HRM, direct prediction, transformer baseline) on the same data for the same number of optimizer steps, with 3 seeds each, one
# rank and one thread per run, ABL_JOBS runs at a time; evaluate once on the held-out puzzles.
# Results: $ABL_OUT/results.tsv (one line per run) and a markdown table on stdout.
# Environment: TRM_BUILD_DIR (build), ABL_OUT (runs/ablations), ABL_STEPS (200),
# ABL_SEEDS ("0 1 2"), ABL_JOBS (2), ABL_VARIANTS (all, in the order below).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TRM_BUILD_DIR:-build}/bin
out=${ABL_OUT:-runs/ablations}
steps=${ABL_STEPS:-200}
seeds=${ABL_SEEDS:-"0 1 2"}
jobs=${ABL_JOBS:-2}
config=configs/ablation_sudoku6.toml
export OMP_NUM_THREADS=1

# Variant -> arch overrides of configs/ablation_sudoku6.toml (T=2, n=2 like HRM's cycles, so the
# recursions make the same number of network calls). HRM has two 2-layer networks (like separate
# networks); direct prediction is one 4-layer call (twice TRM's blocks), one supervision step;
# the transformer baseline is one 4-layer call per supervision step on the carried answer.
# multi_z keeps n = 2, so only z_L1 and z_L2 of its six latents are updated (the reference's
# indexing; the other four stay at their init vectors and enter every sum).
declare -A overrides=(
  [trm]=""
  [one_step]='arch.gradient="one_step"'
  [separate]='arch.networks="separate"'
  [single_z]='arch.latents="single_z"'
  [q_continue]='arch.no_ACT_continue=false'
  [hrm]='arch.recursion="hrm" arch.H_layers=2 arch.L_layers=2 arch.no_ACT_continue=false'
  [direct]='arch.recursion="direct" arch.halt_max_steps=1 arch.L_layers=4'
  [multi_z]='arch.latents="multi_z"'
  [transformer]='arch.recursion="transformer" arch.H_layers=4'
)
variants=${ABL_VARIANTS:-"trm one_step separate single_z multi_z hrm direct transformer q_continue"}

mkdir -p "$out"
if [[ ! -d "$out/data/train" ]]; then
  echo "== generating 6x6 Sudoku (10 blanks; 3000 x 10 augmented training puzzles, 500 held out) into $out/data"
  "$bin/trm-convert" sudoku --generate 3000 --size 6 --blanks 10 --test 500 --num-aug 9 --seed 1 \
    --output "$out/data" --quiet
fi

run_one() {
  local name=$1 seed=$2
  local dir="$out/$name-s$seed"
  rm -rf "$dir"
  mkdir -p "$dir"
  local start end
  start=$(date +%s.%N)
  # shellcheck disable=SC2086  # the override list is split into key=value words on purpose
  "$bin/trm-dist" --config "$config" "data_paths=[\"$out/data\"]" "checkpoint_path=\"$dir\"" \
    "run_name=\"$name-s$seed\"" "seed=$seed" "max_steps=$steps" ${overrides[$name]} \
    > "$dir/train.log" 2>&1 || { echo "run $name seed $seed failed: see $dir/train.log" >&2; return 1; }
  end=$(date +%s.%N)
  local exact token params
  exact=$(sed -n 's/^eval @ step [0-9]*: exact_accuracy \([0-9.]*\).*/\1/p' "$dir/train.log" | tail -1)
  token=$(sed -n 's/^eval @ step [0-9]*: .*token accuracy \([0-9.]*\).*/\1/p' "$dir/train.log" | tail -1)
  params=$(sed -n 's/.*model: \([0-9]*\) parameters.*/\1/p' "$dir/train.log" | head -1)
  printf '%s\t%s\t%s\t%s\t%.1f\t%s\n' "$name" "$seed" "$exact" "$params" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "$token" \
    >> "$out/results.tsv"
  echo "done $name seed $seed: exact $exact, $params parameters"
}

echo "== $steps optimizer steps per run, seeds $seeds, $jobs runs at a time; logs in $out/<variant>-s<seed>/"
: > "$out/results.tsv"
running=0
# Seed-major order, so that an interrupted study still has every variant for the first seeds.
for seed in $seeds; do
  for name in $variants; do
    run_one "$name" "$seed" &
    running=$((running + 1))
    if (( running >= jobs )); then wait -n || true; running=$((running - 1)); fi
  done
done
wait || true

python3 - "$out/results.tsv" "$variants" <<'EOF'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines() if l.strip()]
print("| variant | params | held-out exact acc. % (mean ± sd; per seed) | token acc. % | runs | seconds/run |")
print("|---|---|---|---|---|---|")
for name in sys.argv[2].split():
    r = [x for x in rows if x[0] == name and x[2]]
    if not r:
        continue
    acc = [100 * float(x[2]) for x in r]
    sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
    secs = statistics.mean(float(x[4]) for x in r)
    tok = statistics.mean(100 * float(x[5]) for x in r)
    print(f"| {name} | {int(r[0][3]):,} | {statistics.mean(acc):.1f} ± {sd:.1f} "
          f"({', '.join(f'{a:.1f}' for a in acc)}) | {tok:.1f} | {len(r)} | {secs:.0f} |")
EOF
