#!/usr/bin/env bash
# Runs the test suite once per CPU kernel dispatch this machine offers, so a result that holds only
# with the kernels one CPU picks is caught here instead of on the next machine. Each setting caps
# all three libraries that choose kernels by CPU: oneDNN (ONEDNN_MAX_CPU_ISA, our sgemm), ATen
# (ATEN_CPU_CAPABILITY, LibTorch's own vectorised loops) and OpenBLAS (OPENBLAS_CORETYPE, the
# products that do not go through oneDNN). Settings the CPU lacks are skipped and listed.
#
# usage: tools/check_isa.sh [--repeat N] [--only NAME[,NAME...]] [-- ctest args...]
#   --repeat N   run each setting's ctest with --repeat until-fail:N (flaky tests fail here)
#   --only       a subset of the settings: native avx512 avx2 avx sse41
#   ctest args   e.g. -L model or -R Golden (default: the whole suite)
# Builds first (tools/build.sh) unless TRM_SKIP_BUILD=1. Exit status: 0 when every setting run is
# green, 1 otherwise; a summary table is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

repeat=1
only=""
ctest_args=()
while (($#)); do
  case "$1" in
    --repeat) repeat=${2:?--repeat needs a count}; shift 2 ;;
    --only) only=${2:?--only needs a list}; shift 2 ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check_isa: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ $repeat =~ ^[1-9][0-9]*$ ]] || { echo "check_isa: --repeat takes a positive count" >&2; exit 2; }

build_dir=${TRM_BUILD_DIR:-build}
if [[ ${TRM_SKIP_BUILD:-0} != 1 ]]; then bash tools/build.sh; fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# name | CPU flags it needs | oneDNN cap | ATen capability | OpenBLAS core
settings=(
  "native|-|-|-|-"
  "avx512|avx512f avx512bw avx512vl avx512dq|AVX512_CORE|avx512|SkylakeX"
  "avx2|avx2 fma|AVX2|avx2|Haswell"
  "avx|avx|AVX|default|Sandybridge"
  "sse41|sse4_1|SSE41|default|Nehalem"
)
cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "

summary=()
status=0
for entry in "${settings[@]}"; do
  IFS='|' read -r name needs dnnl aten blas <<<"$entry"
  if [[ -n $only && ",$only," != *",$name,"* ]]; then continue; fi
  missing=""
  if [[ $needs != - ]]; then
    for flag in $needs; do [[ $cpu_flags == *" $flag "* ]] || missing+=" $flag"; done
  fi
  if [[ -n $missing ]]; then
    summary+=("$(printf '%-8s skipped (CPU lacks%s)' "$name" "$missing")")
    continue
  fi
  env_args=()
  if [[ $name != native ]]; then
    env_args=(ONEDNN_MAX_CPU_ISA="$dnnl" ATEN_CPU_CAPABILITY="$aten" OPENBLAS_CORETYPE="$blas")
  fi
  echo "=== check_isa: $name ${env_args[*]:-(as the machine picks)}, repeat $repeat"
  start=$SECONDS
  log="$build_dir/check_isa_$name.log"
  if env "${env_args[@]}" ctest --test-dir "$build_dir" --output-on-failure \
       --repeat "until-fail:$repeat" "${ctest_args[@]}" >"$log" 2>&1; then
    result=green
  else
    result="FAILED (see $log)"
    status=1
    grep -E "^[0-9]+% tests passed|The following tests FAILED|^\s+[0-9]+ - " "$log" || true
  fi
  passed=$(grep -Eo "[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -1)
  summary+=("$(printf '%-8s %-24s %s (%d s) %s' "$name" "${dnnl}/${aten}/${blas}" "$result" \
                      $((SECONDS - start)) "$passed")")
done

echo "=== check_isa summary (oneDNN/ATen/OpenBLAS; '-' = as the machine picks)"
printf '%s\n' "${summary[@]}"
exit $status
