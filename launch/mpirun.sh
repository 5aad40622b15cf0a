#!/usr/bin/env bash
# mpirun wrapper for clusters without a scheduler (or for one machine):
#
#   launch/mpirun.sh -np 16 --hostfile hosts.txt configs/arc1.toml [key=value ...]
#   launch/mpirun.sh -np 2 configs/demo_sudoku6.toml          # one machine, CPU
#
# hosts.txt lists one "hostname slots=N" per line. Extra trm-dist flags (e.g. --resume auto) go
# after the config. The environment of launch/env.sh is exported to every rank. TRM_BIN names
# the folder of trm-dist (default: <repo>/build/bin).
# Graceful stop: `kill -USR1 <pid of this script>` (it execs mpirun, which forwards SIGUSR1 to
# every rank): trm-dist checkpoints at the next step and exits with 138; rerun with --resume auto.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=${TRM_REPO:-$(dirname "$here")}
source "$here/env.sh"

np=1
mpi_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -np|-n) np=$2; shift 2 ;;
    --hostfile) mpi_args+=(--hostfile "$2"); shift 2 ;;
    *) break ;;
  esac
done
config=${1:?usage: $0 [-np N] [--hostfile FILE] CONFIG [trm-dist args ...]}
shift

if [[ $(id -u) -eq 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
if [[ $np -gt $(nproc) ]]; then mpi_args+=(--oversubscribe); fi

exec mpirun -np "$np" ${mpi_args[@]+"${mpi_args[@]}"} \
  -x OMP_NUM_THREADS -x OMP_PROC_BIND -x OMP_PLACES -x NCCL_DEBUG -x NCCL_ASYNC_ERROR_HANDLING \
  -x TORCH_NCCL_ASYNC_ERROR_HANDLING -x OMPI_MCA_mpi_yield_when_idle \
  "${TRM_BIN:-$repo/build/bin}/trm-dist" --config "$config" "$@"
