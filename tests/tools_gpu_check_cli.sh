#!/usr/bin/env bash
# The CPU-verifiable part of tools/gpu_check.sh: argument parsing, GPU and LibTorch detection and
# the exit codes and messages a machine without a GPU (or without a CUDA LibTorch) gets. A fake
# nvidia-smi and a fake python first on PATH make every case deterministic on any machine.
#   tests/tools_gpu_check_cli.sh <source dir> <scratch dir>
set -uo pipefail
src=$1
work=$2
rm -rf "$work" && mkdir -p "$work/bin"
script=$src/tools/gpu_check.sh
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect NAME CODE TEXT -- COMMAND...: exit code CODE and TEXT in the combined output.
expect() {
  local name=$1 code=$2 text=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  [[ $rc == "$code" ]] || fail "$name: exit $rc, expected $code; output: $out"
  [[ $out == *"$text"* ]] || fail "$name: no '$text' in: $out"
}
# json_has FILE TEXT: summary.json holds TEXT (and is valid JSON where python3 can tell).
json_has() {
  [[ -f $1 ]] || { fail "no $1"; return; }
  grep -qF -- "$2" "$1" || fail "$1 lacks $2: $(cat "$1")"
  if command -v python3 > /dev/null; then
    python3 -m json.tool "$1" > /dev/null || fail "$1 is not valid JSON"
  fi
}

expect help 0 "usage: tools/gpu_check.sh" -- bash "$script" --help
expect unknown-flag 2 "unknown argument '--bogus'" -- bash "$script" --bogus
expect bad-peak 2 "--peak-tflops needs a number" -- bash "$script" --peak-tflops fast
expect missing-value 2 "--out needs a folder" -- bash "$script" --out

# A driver that answers but sees no GPU.
printf '#!/bin/sh\necho "NVIDIA-SMI has failed because it could not communicate with the driver" >&2\nexit 9\n' \
  > "$work/bin/nvidia-smi"
chmod +x "$work/bin/nvidia-smi"
expect no-gpu 3 "no CUDA GPU visible" -- env PATH="$work/bin:$PATH" bash "$script" --out "$work/o1"
json_has "$work/o1/summary.json" '"status":"no_gpu"'
json_has "$work/o1/summary.json" '"exit_code":3'

# An H200, but a python without torch: exit 4 naming what to install; the peak is known.
printf '#!/bin/sh\necho "NVIDIA H200, 143771 MiB"\n' > "$work/bin/nvidia-smi"
expect no-torch 4 "no LibTorch with CUDA found" -- \
  env PATH="$work/bin:$PATH" PYTHON=/bin/false bash "$script" --out "$work/o2" --dry-run
json_has "$work/o2/summary.json" '"gpu":"NVIDIA H200"'
json_has "$work/o2/summary.json" '"peak_bf16_tflops":989'
json_has "$work/o2/summary.json" '"status":"missing_prerequisite"'

# A CPU-only PyTorch (torch.version.cuda is None).
printf '#!/bin/sh\nprintf "/opt/torch/share/cmake\\n\\n1\\n2.5.0+cpu\\n"\n' > "$work/bin/fakepython"
chmod +x "$work/bin/fakepython"
expect cpu-torch 4 "is a CPU build" -- \
  env PATH="$work/bin:$PATH" PYTHON="$work/bin/fakepython" bash "$script" --out "$work/o3"

# --torch-prefix without a TorchConfig.cmake under it.
expect bad-prefix 4 "Torch/TorchConfig.cmake" -- \
  env PATH="$work/bin:$PATH" bash "$script" --out "$work/o4" --torch-prefix "$work"

# Everything present: a fake CUDA toolkit (nvcc + nccl.h) first on PATH, so the case runs the same
# on every machine whatever CUDA it has. The dry run prints the configure command against the
# detected LibTorch and the toolkit's NCCL, and exits 0 having built nothing.
mkdir -p "$work/prefix/Torch" "$work/cuda/bin" "$work/cuda/include"
printf '#!/bin/sh\necho "Cuda compilation tools, release 12.6, V12.6.77"\n' > "$work/cuda/bin/nvcc"
chmod +x "$work/cuda/bin/nvcc"
echo '#define NCCL_MAJOR 2' > "$work/cuda/include/nccl.h"
printf '#!/bin/sh\nprintf "%s\\n12.6\\n1\\n2.5.0\\n"\n' "$work/prefix" > "$work/bin/fakepython"
with_toolkit=(env PATH="$work/cuda/bin:$work/bin:$PATH" PYTHON="$work/bin/fakepython")
expect dry-run 0 "-DTorch_DIR=$work/prefix/Torch" -- "${with_toolkit[@]}" bash "$script" \
  --out "$work/o5" --dry-run --build-dir "$work/never-built"
json_has "$work/o5/summary.json" '"status":"dry_run"'
grep -qF -- "-DNCCL_INCLUDE_DIR=$work/cuda/include" "$work/o5/summary.txt" \
  || fail "dry-run did not use the toolkit's nccl.h: $(cat "$work/o5/summary.txt")"
[[ -e $work/never-built ]] && fail "dry-run created the build tree"

# A toolkit without NCCL anywhere the script looks: exit 4 naming the package to install.
rm "$work/cuda/include/nccl.h"
if [[ ! -f /usr/local/cuda/include/nccl.h && ! -f /usr/include/nccl.h && -z ${CUDA_HOME:-} ]]; then
  expect no-nccl 4 "install libnccl-dev" -- "${with_toolkit[@]}" bash "$script" \
    --out "$work/o6" --dry-run --build-dir "$work/never-built"
fi

[[ $fails == 0 ]] && echo "tools_gpu_check_cli: all cases passed"
exit $((fails > 0))
