#!/usr/bin/env bash
# Preemption soak (docs/RELIABILITY.md): trains configs/test_tiny.toml under mpirun -np 2 for N
# minutes, interrupting a random rank at random times (SIGTERM: checkpoint and exit 143; SIGKILL:
# nothing written, mpirun must end the other rank) and resuming each time with the same command
# (--resume auto). Once it truncates the newest checkpoint and checks that the resume falls back
# to the previous one. An uninterrupted reference run of the same command trains alongside. After
# N minutes the last launch runs to its first periodic checkpoint (step P, so after every
# interruption) and is stopped with SIGTERM; every dataset of /model /puzzle_emb /ema /optim
# /carry of the soak's and the reference's step-P checkpoints must be bit-identical (h5diff
# without tolerance). Exit 0 only then.
#   bash tools/soak.sh [--minutes 20] [--seed 1] [--dir runs/soak] [--gap-min 5] [--gap-max 75]
#                      [--interval 50]      (checkpoint_interval_steps)
# TRM_BUILD_DIR (default build) holds bin/trm-dist and bin/trm-convert.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

minutes=20
seed=1
dir=runs/soak
gap_min=5        # seconds from a launch to its interruption: uniform in [gap_min, gap_max]
gap_max=75
interval=50      # checkpoint_interval_steps
hang_limit=120   # seconds an interrupted job may take to end before it counts as hung
usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while (($#)); do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --gap-min) gap_min=$2; shift 2 ;;
    --gap-max) gap_max=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "soak: unknown argument '$1'" >&2; usage ;;
  esac
done
((gap_max > gap_min && gap_min >= 1)) || { echo "soak: need 1 <= --gap-min < --gap-max" >&2; exit 2; }

bin=${TRM_BUILD_DIR:-build}
[[ $bin == /* ]] || bin=$repo/$bin
bin=$bin/bin
for b in trm-dist trm-convert; do
  [[ -x $bin/$b ]] || { echo "soak: $bin/$b missing; build it first (bash tools/build.sh)" >&2; exit 2; }
done
command -v h5diff > /dev/null || { echo "soak: h5diff missing (bash tools/setup_debian.sh)" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rm -rf "$dir"/{data,soak,reference,logs}
mkdir -p "$dir/logs"
RANDOM=$seed

say() { echo "soak: $*" | tee -a "$dir/logs/summary.txt"; }
rand_between() { echo $(($1 + RANDOM % ($2 - $1 + 1))); }

# 256 training puzzles (16 steps per epoch at batch 16); epochs large enough that the schedule
# never ends during the soak. Exploration is on so that the per-rank generators are exercised.
"$bin/trm-convert" sudoku --generate 256 --size 4 --blanks 6 --test 16 --seed 5 --quiet \
  --output "$dir/data" > "$dir/logs/convert.log" 2>&1
train_args=(--config "$repo/configs/test_tiny.toml" --resume auto "data_paths=[\"$dir/data\"]"
            epochs=100000 log_interval=1 checkpoint_interval_steps=$interval
            checkpoint_keep_last=3 arch.halt_exploration_prob=0.5)
launch() {  # launch <checkpoint dir> <log> [overrides...]: mpirun in the background, pid in $job
  local ckpt=$1 log=$2
  shift 2
  mpirun -np 2 --oversubscribe -x OMP_NUM_THREADS=1 "$bin/trm-dist" "${train_args[@]}" \
    "checkpoint_path=$ckpt" "$@" > "$log" 2>&1 &
  job=$!
}

# The pid of rank `r` of mpirun `job` (a child whose environment says OMPI_COMM_WORLD_RANK=r).
rank_pid() {
  local p
  for p in $(pgrep -P "$job" 2> /dev/null); do
    if tr '\0' '\n' < "/proc/$p/environ" 2> /dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
      echo "$p"
      return
    fi
  done
}

last_step() {  # the last step the log reports as done (0 if none)
  local s
  s=$(grep -oE '^step [0-9]+/' "$1" | tail -1 | tr -dc '0-9' || true)
  echo "${s:-0}"
}
resume_step() {  # the step the log resumed from (0 for a fresh start)
  local s
  s=$(grep -oE '^resume: .* at step [0-9]+' "$1" | tail -1 | sed 's/.* at step //' || true)
  echo "${s:-0}"
}

# Whether process $1 still runs (a zombie does not: it has ended and only waits to be reaped).
alive() {
  local state
  state=$(ps -o stat= -p "$1" 2> /dev/null || true)
  [[ -n $state && $state != Z* ]]
}

# Waits for $job to end; returns its status, or 255 after hang_limit seconds (then kills all).
wait_job() {
  local pids=("$@") t=0
  while alive "$job"; do
    sleep 1
    t=$((t + 1))
    if ((t > hang_limit)); then
      kill -9 "$job" "${pids[@]}" 2> /dev/null || true
      wait "$job" 2> /dev/null || true
      return 255
    fi
  done
  local rc=0
  wait "$job" || rc=$?
  # Every rank must be gone with mpirun: one left behind would be a hung rank.
  local p
  for p in "${pids[@]}"; do
    if alive "$p"; then
      kill -9 "$p" 2> /dev/null || true
      return 254
    fi
  done
  return $rc
}

fail() { say "FAILED: $*"; exit 1; }

# The reference: the same command, never interrupted, keeping every periodic checkpoint (the
# soak prunes the ones it can no longer reach). Ended when the script ends, however it ends.
launch "$dir/reference" "$dir/logs/reference.log" checkpoint_keep_last=1000000
ref_job=$job
job=
cleanup() {
  local p
  for p in $job $ref_job; do alive "$p" && kill -TERM "$p" 2> /dev/null; done
  wait 2> /dev/null || true
}
trap cleanup EXIT
step_of() { local s; s=$(basename "$1" .h5); echo $((10#${s#step_})); }

start=$(date +%s)
deadline=$((start + minutes * 60))
n_term=0 n_kill=0 n_term_early=0 resumes=0 lost=0 segment=0 prev_last=-1 final_step=0
truncate_at=$(rand_between 1 3)  # truncate before this resume (when two checkpoints exist)
truncated=no
say "seed $seed, $minutes min, interruptions every ${gap_min}-${gap_max} s, checkpoint every $interval steps"
while true; do
  segment=$((segment + 1))
  log=$dir/logs/segment_$(printf %03d $segment).log
  expect_fallback=""
  now=$(date +%s)
  # Truncate before the chosen resume, or before the last one if the soak got no further.
  if [[ $truncated == no ]] && ((segment > truncate_at || now >= deadline)); then
    mapfile -t files < <(ls "$dir/soak"/step_*.h5 2> /dev/null | sort)
    if ((${#files[@]} >= 2)); then
      newest=${files[-1]}
      expect_fallback=${files[-2]}
      truncate -s $(($(stat -c %s "$newest") / 2)) "$newest"
      truncated=$newest
      say "truncated $(basename "$newest") to half its size; expecting a resume from $(basename "$expect_fallback")"
    fi
  fi
  final=no
  ((now >= deadline)) && final=yes
  launch "$dir/soak" "$log"
  if [[ $final == yes ]]; then
    # The last launch trains to its first periodic checkpoint: the state compared below.
    until grep -q '^checkpoint: ' "$log"; do
      alive "$job" || fail "segment $segment ended by itself (log: $log)"
      sleep 1
    done
  elif [[ -n $expect_fallback ]]; then
    # The fallback check needs this launch to get past its resume.
    until (($(last_step "$log") > $(resume_step "$log") + 2)); do
      alive "$job" || fail "segment $segment ended by itself (log: $log)"
      sleep 1
    done
  fi
  [[ $final == yes ]] || sleep "$(rand_between "$gap_min" "$gap_max")"
  r=$((RANDOM % 2))
  kind=TERM
  [[ $final == no ]] && ((RANDOM % 2)) && kind=KILL
  pids=("$(rank_pid 0)" "$(rank_pid 1)")
  [[ -n ${pids[0]} && -n ${pids[1]} ]] || fail "segment $segment: ranks not found (log: $log)"
  t0=$(date +%s)
  kill -"$kind" "${pids[$r]}" 2> /dev/null || true
  rc=0
  wait_job "${pids[@]}" || rc=$?
  took=$(($(date +%s) - t0))
  ((rc == 255)) && fail "segment $segment: job still running ${hang_limit} s after SIG$kind to rank $r (log: $log)"
  ((rc == 254)) && fail "segment $segment: mpirun ended but a rank survived SIG$kind to rank $r (log: $log)"

  # What this segment did: where it resumed from, how far it got.
  from=$(resume_step "$log")
  reached=$(last_step "$log")
  if [[ -n $expect_fallback ]]; then
    want=$(step_of "$expect_fallback")
    grep -q "warning: skipping damaged checkpoint $truncated" "$log" \
      || fail "segment $segment: no 'skipping damaged checkpoint' warning for $truncated (log: $log)"
    ((from == want)) || fail "segment $segment: resumed from step $from, expected $want (log: $log)"
    say "fallback ok: skipped the truncated $(basename "$truncated"), resumed from step $from"
  fi
  if ((segment > 1)); then
    grep -qE '^resume: (.* at step [0-9]+|no valid checkpoint)' "$log" || ((reached == 0)) \
      || fail "segment $segment: no resume line (log: $log)"
    # A launch that got as far as choosing its checkpoint (or a fresh start) resumed.
    if grep -qE '^resume: (.* at step |no valid checkpoint)' "$log"; then
      resumes=$((resumes + 1))
      ((prev_last > from)) && lost=$((lost + prev_last - from))
    fi
  fi
  ((reached > 0)) && prev_last=$reached
  stopped=$(grep -oE '^stop: signal 15 at step [0-9]+' "$log" | sed 's/.* step //' || true)
  if [[ $kind == TERM ]]; then
    if [[ -n $stopped ]]; then
      ((rc == 143)) || fail "segment $segment: checkpointed after SIGTERM but exit $rc, not 143"
      n_term=$((n_term + 1))
      prev_last=$stopped
      outcome="checkpoint at step $stopped, exit 143"
    else
      # Before the handler is installed (start-up, resume) SIGTERM simply ends the rank.
      ((rc != 0)) || fail "segment $segment: SIGTERM to rank $r but exit 0 (log: $log)"
      n_term_early=$((n_term_early + 1))
      outcome="during start-up (step $reached), exit $rc"
    fi
  else
    ((rc != 0)) || fail "segment $segment: SIGKILL to rank $r but exit 0 (log: $log)"
    n_kill=$((n_kill + 1))
    outcome="exit $rc"
  fi
  say "segment $segment: resumed at $from, reached $reached; SIG$kind rank $r -> $outcome, all ranks gone in ${took} s"
  if [[ $final == yes ]]; then
    [[ -n $stopped ]] || fail "the final SIGTERM wrote no checkpoint (log: $log)"
    final_step=$(grep '^checkpoint: ' "$log" | tail -1 | sed 's/^checkpoint: //')
    final_step=$(step_of "$final_step")
    break
  fi
  alive "$ref_job" || fail "the reference run ended (log: $dir/logs/reference.log)"
  # Every later resume starts from a soak checkpoint present now: older reference ones can go.
  mapfile -t files < <(ls "$dir/soak"/step_*.h5 2> /dev/null | sort)
  if ((${#files[@]})); then
    oldest=$(step_of "${files[0]}")
    for f in "$dir/reference"/step_*.h5; do
      [[ -f $f ]] && (($(step_of "$f") < oldest)) && rm -f "$f"
    done
  fi
done
[[ $truncated != no ]] || fail "the soak was too short to truncate a checkpoint (raise --minutes)"
soak_s=$(($(date +%s) - start))

name=step_$(printf %09d "$final_step").h5
say "comparing $name with the uninterrupted reference run"
until [[ -f $dir/reference/$name ]]; do
  alive "$ref_job" || fail "the reference run ended before step $final_step (log: $dir/logs/reference.log)"
  sleep 1
done
a=$dir/soak/$name
b=$dir/reference/$name
[[ -f $a && -f $b ]] || fail "missing $a or $b"
result=IDENTICAL
for group in /model /puzzle_emb /ema /optim /carry /state/step /state/optim_step \
             /state/sampler_epoch /state/sampler_batch_in_epoch; do
  if ! h5diff -r "$a" "$b" "$group" "$group" > "$dir/logs/h5diff.txt" 2>&1; then
    # h5diff -r names every dataset it compares, each followed by "N differences found".
    first=$(awk '/^dataset: /{d=$2} /^[0-9]+ differences? found/{if ($1 > 0) {print d; exit}}' \
      "$dir/logs/h5diff.txt")
    result="DIFFERENT (first: ${first:-$group}; h5diff output in $dir/logs/h5diff.txt)"
    break
  fi
done

interruptions=$((n_term + n_term_early + n_kill))
say "summary: $interruptions interruptions in $((soak_s / 60)) min $((soak_s % 60)) s:" \
  "$n_term SIGTERM (checkpoint + exit 143), $n_term_early SIGTERM during start-up, $n_kill SIGKILL;" \
  "$resumes resumes, 1 truncated checkpoint (fallback ok), $lost steps re-done;" \
  "compared at step $final_step"
say "result: $result"
[[ $result == IDENTICAL ]]
