#!/usr/bin/env bash
# tools/gpu_check.sh: the device check of trm-dist's GPU path, one run of about 8 minutes on one
# GPU (docs/GPU.md). Steps, each recorded in $OUT/summary.json and $OUT/summary.txt:
#   1. detect  the GPU (nvidia-smi), a LibTorch with CUDA (python3 -c 'import torch' or
#              --torch-prefix), the CUDA toolkit and NCCL;
#   2. build   configure and build the CUDA targets into --build-dir (CUDA and NCCL must be ON);
#   3. golden  the model golden tests on cuda: float32 at the CPU tolerance, bfloat16 within the
#              documented one (tests/golden_file.hpp); none may skip;
#   4. ckpt    test_train_device: training steps on cuda (NCCL), the checkpoint restored by a CPU
#              trainer bit for bit;
#   5. bench   bench-model-step and bench-train-step in bf16 at C4 (h512, batch 768) and ARC
#              (916 positions, h512, the largest batch of 512/256/128/64 that fits): TFLOP/s and
#              % of the GPU's bf16 peak;
#   6. train   200 steps of configs/test_tiny.toml on cuda through trm-dist (np=1, backend nccl,
#              bf16 forward), loss decreasing in metrics.jsonl; then 10 more steps resumed on CPU.
# Exit: 0 every check passed; 1 a check failed; 2 bad arguments; 3 no GPU; 4 a prerequisite is
# missing (what and how to get it is printed).
set -uo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
usage: tools/gpu_check.sh [--out DIR] [--build-dir DIR] [--torch-prefix DIR] [--peak-tflops X]
                          [--skip-build] [--skip-golden] [--skip-ckpt] [--skip-bench]
                          [--skip-train] [--dry-run] [--help]
  --out DIR           results (summary.json, summary.txt, logs); default $OUT or ./gpu_check_out
  --build-dir DIR     CUDA build tree; default build-gpu
  --torch-prefix DIR  LibTorch's CMake prefix (default: python3 -c 'import torch;
                      print(torch.utils.cmake_prefix_path)')
  --peak-tflops X     the GPU's dense bf16 peak, when the built-in table does not know it
  --skip-STEP         leave out one step (build reuses --build-dir as it is)
  --dry-run           detect and print the plan; build and run nothing
Exit: 0 passed, 1 a check failed, 2 bad arguments, 3 no GPU, 4 a prerequisite is missing.
EOF
}

out_dir=${OUT:-./gpu_check_out}
build_dir=build-gpu
torch_prefix=""
peak_tflops=""
dry_run=0
declare -A skip=([build]=0 [golden]=0 [ckpt]=0 [bench]=0 [train]=0)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) [[ $# -ge 2 ]] || { echo "gpu_check: --out needs a folder" >&2; exit 2; }
           out_dir=$2; shift 2 ;;
    --build-dir) [[ $# -ge 2 ]] || { echo "gpu_check: --build-dir needs a folder" >&2; exit 2; }
                 build_dir=$2; shift 2 ;;
    --torch-prefix) [[ $# -ge 2 ]] || { echo "gpu_check: --torch-prefix needs a folder" >&2; exit 2; }
                    torch_prefix=$2; shift 2 ;;
    --peak-tflops) [[ $# -ge 2 && $2 =~ ^[0-9]+([.][0-9]+)?$ ]] \
                     || { echo "gpu_check: --peak-tflops needs a number (dense bf16 TFLOP/s)" >&2; exit 2; }
                   peak_tflops=$2; shift 2 ;;
    --skip-build|--skip-golden|--skip-ckpt|--skip-bench|--skip-train)
      skip[${1#--skip-}]=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu_check: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

mkdir -p "$out_dir/logs" || { echo "gpu_check: cannot create $out_dir" >&2; exit 2; }
out_dir=$(cd "$out_dir" && pwd)
summary_txt=$out_dir/summary.txt
: > "$summary_txt"
: > "$out_dir/bench.jsonl"
checks=()     # JSON objects, one per step
failed=0

json_str() {  # a JSON string literal of $1
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  printf '"%s"' "${s//$'\t'/ }"
}
# record STEP STATUS DETAIL: STATUS is passed, failed, skipped or missing.
record() {
  checks+=("{\"step\":$(json_str "$1"),\"status\":$(json_str "$2"),\"detail\":$(json_str "$3")}")
  printf '%-7s %-8s %s\n' "$1" "$2" "$3" | tee -a "$summary_txt"
  [[ $2 == failed ]] && failed=1
  return 0
}
# write_summary STATUS EXIT_CODE: summary.json from everything recorded so far.
write_summary() {
  local bench="" line
  while IFS= read -r line; do bench+=${bench:+,}$line; done < "$out_dir/bench.jsonl"
  local joined
  joined=$(IFS=,; echo "${checks[*]:-}")
  {
    printf '{"status":%s,"exit_code":%s,"gpu":%s,"peak_bf16_tflops":%s,' \
      "$(json_str "$1")" "$2" "$(json_str "${gpu_name:-}")" "${peak_tflops:-null}"
    printf '"torch_prefix":%s,"build_dir":%s,"checks":[%s],"bench":[%s]}\n' \
      "$(json_str "$torch_prefix")" "$(json_str "$build_dir")" "$joined" "$bench"
  } > "$out_dir/summary.json"
}
finish() {  # finish EXIT_CODE STATUS MESSAGE
  [[ -n $3 ]] && echo "gpu_check: $3" | tee -a "$summary_txt" >&2
  write_summary "$2" "$1"
  echo "gpu_check: results in $out_dir/summary.json and $out_dir/summary.txt"
  exit "$1"
}

# --- 1. detect ----------------------------------------------------------------------------------
gpu_name=""
if ! command -v nvidia-smi > /dev/null 2>&1; then
  record detect missing "no nvidia-smi on PATH"
  finish 3 no_gpu "no CUDA GPU on this machine (nvidia-smi not found): the device checks need one GPU; run this script in a session that is lent a device. Nothing was built or run."
fi
if ! gpu_line=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2> "$out_dir/logs/nvidia-smi.err" | head -n 1) \
   || [[ -z $gpu_line ]]; then
  record detect missing "nvidia-smi found no GPU: $(head -c 300 "$out_dir/logs/nvidia-smi.err")"
  finish 3 no_gpu "no CUDA GPU visible (nvidia-smi reports none; check CUDA_VISIBLE_DEVICES and the driver)."
fi
gpu_name=${gpu_line%%,*}
if [[ -z $peak_tflops ]]; then
  # Dense bf16 tensor-core peaks (TFLOP/s, no sparsity) from the vendor's data sheets.
  case "$gpu_name" in
    *H200\ NVL*|*H100\ NVL*) peak_tflops=835 ;;
    *H100*PCIe*) peak_tflops=756 ;;
    *GH200*|*H200*|*H100*|*H800*) peak_tflops=989 ;;
    *B200*) peak_tflops=2250 ;;
    *B100*) peak_tflops=1750 ;;
    *A100*|*A800*) peak_tflops=312 ;;
    *L40S*) peak_tflops=362 ;;
    *L40*) peak_tflops=181 ;;
    *L4*) peak_tflops=121 ;;
    *A10*) peak_tflops=125 ;;
  esac
fi
if [[ -n $peak_tflops ]]; then
  record detect passed "GPU: $gpu_line ($peak_tflops TFLOP/s dense bf16 peak)"
else
  record detect passed "GPU: $gpu_line (bf16 peak unknown: pass --peak-tflops for % of peak)"
fi

python=${PYTHON:-python3}
if [[ -z $torch_prefix ]]; then
  if ! torch_info=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path); print(torch.version.cuda or ""); print(int(torch.compiled_with_cxx11_abi())); print(torch.__version__)' 2> "$out_dir/logs/torch.err"); then
    record detect missing "python3 -c 'import torch' failed: $(tail -n 1 "$out_dir/logs/torch.err")"
    finish 4 missing_prerequisite "no LibTorch with CUDA found. Install a CUDA build of PyTorch for $python (pip install torch), or unpack a LibTorch with CUDA (pytorch.org, cxx11 ABI) and pass --torch-prefix <libtorch>/share/cmake."
  fi
  torch_prefix=$(sed -n 1p <<< "$torch_info")
  torch_cuda=$(sed -n 2p <<< "$torch_info")
  torch_abi=$(sed -n 3p <<< "$torch_info")
  torch_version=$(sed -n 4p <<< "$torch_info")
  if [[ -z $torch_cuda ]]; then
    record detect missing "PyTorch $torch_version at $torch_prefix has no CUDA"
    finish 4 missing_prerequisite "PyTorch $torch_version is a CPU build; install a CUDA build (pip install torch --index-url https://download.pytorch.org/whl/cu126) or pass --torch-prefix."
  fi
  record detect passed "LibTorch $torch_version (CUDA $torch_cuda, cxx11 ABI $torch_abi) at $torch_prefix"
  if [[ $torch_abi == 0 ]]; then
    record detect warning "this LibTorch uses the pre-cxx11 ABI: Debian's GoogleTest and toml++ users may fail to link; a cxx11-ABI LibTorch (torch >= 2.7 wheels, or libtorch-cxx11-abi) avoids it"
  fi
fi
[[ -d $torch_prefix/Torch ]] || {
  record detect missing "no $torch_prefix/Torch/TorchConfig.cmake"
  finish 4 missing_prerequisite "--torch-prefix must hold Torch/TorchConfig.cmake (LibTorch's share/cmake)."
}
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
if [[ ! -x $nvcc ]]; then
  record detect missing "no nvcc (CUDA toolkit) on PATH or in /usr/local/cuda"
  finish 4 missing_prerequisite "LibTorch's CMake config needs the CUDA toolkit: install it (matching torch.version.cuda) or put its bin/ on PATH."
fi
nccl_args=()
nccl_header=""
for dir in "$(dirname "$(dirname "$nvcc")")/include" ${CUDA_HOME:+"$CUDA_HOME/include"} \
           /usr/local/cuda/include /usr/include \
           $("$python" -c 'import nvidia.nccl, os; print(os.path.dirname(nvidia.nccl.__file__))' 2> /dev/null | sed 's|$|/include|'); do
  if [[ -f $dir/nccl.h ]]; then nccl_header=$dir/nccl.h; break; fi
done
if [[ -z $nccl_header ]]; then
  record detect missing "no nccl.h in the CUDA toolkit of $nvcc, \$CUDA_HOME, /usr/local/cuda, /usr/include or the nvidia-nccl wheel"
  finish 4 missing_prerequisite "NCCL is missing: install libnccl-dev (or the nvidia-nccl-cu12 wheel) so that nccl.h and libnccl.so are found."
fi
nccl_root=$(dirname "$(dirname "$nccl_header")")
nccl_lib=$(ls "$nccl_root"/lib*/libnccl.so* "$nccl_root"/lib/x86_64-linux-gnu/libnccl.so* 2> /dev/null | head -n 1)
nccl_args=(-DNCCL_INCLUDE_DIR="$(dirname "$nccl_header")")
[[ -n $nccl_lib ]] && nccl_args+=(-DNCCL_LIBRARY="$nccl_lib")
record detect passed "CUDA toolkit $("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'), NCCL $nccl_header"

bin=$build_dir/bin
configure_cmd=(cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$torch_prefix"
               -DTorch_DIR="$torch_prefix/Torch" -DCMAKE_CUDA_COMPILER="$nvcc" -DTRM_WITH_DNNL=OFF
               "${nccl_args[@]}")
build_targets=(trm-dist trm-convert bench-model-step bench-train-step test_model_golden
               test_model_hrm_golden test_model_flops test_train_device)
if [[ $dry_run == 1 ]]; then
  {
    echo "plan (dry run): ${configure_cmd[*]}"
    echo "                cmake --build $build_dir -j$(nproc) --target ${build_targets[*]}"
    echo "                then golden, ckpt, bench, train as listed in tools/gpu_check.sh"
  } | tee -a "$summary_txt"
  finish 0 dry_run ""
fi

# step NAME TIMEOUT_S LOG COMMAND...: runs one command with a time limit, output to logs/LOG.
step() {
  local name=$1 limit=$2 log=$out_dir/logs/$3
  shift 3
  echo "gpu_check: [$name] $*" >> "$summary_txt"
  timeout --kill-after=10 "$limit" "$@" > "$log" 2>&1
  local rc=$?
  [[ $rc == 124 || $rc == 137 ]] && echo "gpu_check: [$name] timed out after ${limit}s" >> "$log"
  return $rc
}

# --- 2. build -----------------------------------------------------------------------------------
if [[ ${skip[build]} == 1 ]]; then
  record build skipped "reusing $build_dir"
else
  if ! step build 120 configure.log "${configure_cmd[@]}"; then
    record build failed "configure failed: $(grep -m 3 -i 'error' "$out_dir/logs/configure.log" | tr '\n' ' ')"
    finish 1 failed "CMake configure failed (logs/configure.log)."
  fi
  config_line=$(grep -m 1 '^-- trm-dist:' "$out_dir/logs/configure.log")
  if [[ $config_line != *"CUDA ON, NCCL ON"* ]]; then
    record build failed "configure did not enable CUDA and NCCL: $config_line"
    finish 1 failed "LibTorch at $torch_prefix is not seen as CUDA-enabled, or NCCL was not found (logs/configure.log)."
  fi
  if ! step build 330 build.log cmake --build "$build_dir" -j"$(nproc)" --target "${build_targets[@]}"; then
    record build failed "build failed: $(grep -m 3 'error' "$out_dir/logs/build.log" | tr '\n' ' ')"
    finish 1 failed "build failed (logs/build.log)."
  fi
  record build passed "$config_line"
fi
for t in "${build_targets[@]}"; do
  [[ -x $bin/$t ]] || finish 1 failed "$bin/$t is missing: build it or drop --skip-build."
done

# gtest_check NAME BINARY FILTER: passes when the filtered tests ran, passed and none skipped.
gtest_check() {
  local name=$1 binary=$2 filter=$3 log=${1}_${2}.log
  step "$name" 120 "$log" "$bin/$binary" --gtest_filter="$filter" \
    --gtest_output="json:$out_dir/logs/${name}_${binary}.json"
  local rc=$? ran skipped
  ran=$(grep -c '^\[       OK \]' "$out_dir/logs/$log")
  skipped=$(grep -c '^\[  SKIPPED \]' "$out_dir/logs/$log")
  if [[ $rc != 0 ]]; then
    record "$name" failed "$binary: $(grep '^\[  FAILED  \]' "$out_dir/logs/$log" | head -n 4 | tr '\n' ' ')(logs/$log)"
  elif [[ $ran == 0 || $skipped != 0 ]]; then
    record "$name" failed "$binary: $ran passed, $skipped skipped: the CUDA tests did not run (logs/$log)"
  else
    record "$name" passed "$binary: $ran tests ($filter)"
  fi
}

# --- 3. golden ----------------------------------------------------------------------------------
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
if [[ ${skip[golden]} == 1 ]]; then
  record golden skipped ""
else
  gtest_check golden test_model_golden '*OnCuda*'
  gtest_check golden test_model_hrm_golden '*OnCuda*'
fi

# --- 4. ckpt ------------------------------------------------------------------------------------
if [[ ${skip[ckpt]} == 1 ]]; then
  record ckpt skipped ""
else
  gtest_check ckpt test_train_device '*'
fi

# --- 5. bench -----------------------------------------------------------------------------------
# bench NAME LOG COMMAND...: runs a benchmark, keeps its RESULT lines; fails without one.
bench() {
  local name=$1 log=$2
  shift 2
  if step bench 90 "$log" "$@" && grep -q '^RESULT ' "$out_dir/logs/$log"; then
    grep '^RESULT ' "$out_dir/logs/$log" | sed 's/^RESULT //' >> "$out_dir/bench.jsonl"
    record bench passed "$name: $(grep -v '^RESULT ' "$out_dir/logs/$log" | grep -m 1 'TFLOP/s' | sed 's/  */ /g')"
    return 0
  fi
  return 1
}
if [[ ${skip[bench]} == 1 ]]; then
  record bench skipped ""
else
  peak_arg=(--peak-tflops "${peak_tflops:-0}")
  bench "model step C4 bf16 batch 768" bench_model_C4.log \
    "$bin/bench-model-step" --device cuda --dtype bf16 --batch 768 --warmup 3 --steps 10 \
    "${peak_arg[@]}" C4 || record bench failed "bench-model-step C4 (logs/bench_model_C4.log)"
  arc_batch=""
  for b in 512 256 128 64; do
    if bench "model step ARC bf16 batch $b" "bench_model_ARC_$b.log" \
         "$bin/bench-model-step" --device cuda --dtype bf16 --batch "$b" --warmup 2 --steps 5 \
         "${peak_arg[@]}" ARC; then
      arc_batch=$b
      break
    fi
  done
  [[ -n $arc_batch ]] || record bench failed "bench-model-step ARC fits no batch of 512..64 (logs/bench_model_ARC_*.log)"
  bench "train step C4 bf16 batch 768" bench_train_C4.log \
    "$bin/bench-train-step" --config C4 --device cuda --dtype bf16 --batch 768 --warmup 3 \
    --steps 10 "${peak_arg[@]}" || record bench failed "bench-train-step C4 (logs/bench_train_C4.log)"
  if [[ -n $arc_batch ]]; then
    bench "train step ARC bf16 batch $arc_batch" bench_train_ARC.log \
      "$bin/bench-train-step" --config ARC --device cuda --dtype bf16 --batch "$arc_batch" \
      --warmup 2 --steps 5 "${peak_arg[@]}" || record bench failed "bench-train-step ARC (logs/bench_train_ARC.log)"
  fi
fi

# --- 6. train -----------------------------------------------------------------------------------
if [[ ${skip[train]} == 1 ]]; then
  record train skipped ""
else
  train_dir=$out_dir/train
  rm -rf "$train_dir"
  launcher=()
  command -v mpirun > /dev/null 2>&1 && launcher=(mpirun -np 1 --allow-run-as-root)
  common=(--config configs/test_tiny.toml "data_paths=[\"$train_dir/data\"]"
          "checkpoint_path=\"$train_dir/run\"" epochs=40)
  if ! step train 60 train_data.log "$bin/trm-convert" sudoku --generate 256 --size 4 --blanks 6 \
         --test 32 --num-aug 1 --seed 2 --quiet --output "$train_dir/data"; then
    record train failed "trm-convert failed (logs/train_data.log)"
  elif ! step train 150 train_cuda.log "${launcher[@]}" "$bin/trm-dist" "${common[@]}" \
           device=\"cuda\" arch.forward_dtype=\"bfloat16\" max_steps=200; then
    record train failed "trm-dist on cuda failed (logs/train_cuda.log)"
  elif ! grep -q 'backend nccl' "$out_dir/logs/train_cuda.log"; then
    record train failed "trm-dist did not use NCCL: $(grep -m 1 'backend' "$out_dir/logs/train_cuda.log")"
  else
    # Mean lm_loss of the first and last 20 train steps in metrics.jsonl.
    losses=$("$python" - "$train_dir/run/metrics.jsonl" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
loss = [r["lm_loss"] for r in rows if r.get("kind") == "train" and r.get("lm_loss") is not None]
if len(loss) < 40:
    sys.exit(f"only {len(loss)} train steps logged")
print(f"{sum(loss[:20]) / 20:.6f} {sum(loss[-20:]) / 20:.6f} {len(loss)}")
EOF
    )
    read -r first last n <<< "$losses"
    if [[ -z ${last:-} ]]; then
      record train failed "metrics.jsonl: $losses"
    elif "$python" -c "import sys; sys.exit(0 if $last < $first else 1)"; then
      record train passed "$n steps on cuda (nccl, bf16): lm_loss $first (steps 1-20) -> $last (last 20)"
    else
      record train failed "lm_loss did not decrease: $first (steps 1-20) -> $last (last 20)"
    fi
    # The run's checkpoint, resumed by a CPU process for 10 more steps.
    if step train 120 train_resume_cpu.log "${launcher[@]}" "$bin/trm-dist" "${common[@]}" \
         --resume auto device=\"cpu\" arch.forward_dtype=\"bfloat16\" max_steps=210 threads=4 \
       && grep -q 'resume: ' "$out_dir/logs/train_resume_cpu.log"; then
      record train passed "the cuda checkpoint resumed on CPU: $(grep -m 1 'resume: ' "$out_dir/logs/train_resume_cpu.log")"
    else
      record train failed "resuming the cuda checkpoint on CPU failed (logs/train_resume_cpu.log)"
    fi
  fi
fi

if [[ $failed == 1 ]]; then finish 1 failed "some checks failed (see above)."; fi
finish 0 passed "every check passed."
