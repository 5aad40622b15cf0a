# Environment settings that matter for trm-dist, sourced by the launch scripts. Each is a default:
# a value already set in the environment wins.

# One OpenMP/BLAS thread per core a rank owns: ranks share a node, so the default (all cores per
# rank) oversubscribes and slows every rank down. SLURM tells us how many CPUs each task has.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-${SLURM_CPUS_PER_TASK:-1}}
# Keep each rank's threads on its own cores.
export OMP_PROC_BIND=${OMP_PROC_BIND:-close}
export OMP_PLACES=${OMP_PLACES:-cores}

# NCCL: fail loudly instead of hanging when a peer dies (the communicator is then aborted and the
# job exits), and report which rank failed.
export NCCL_ASYNC_ERROR_HANDLING=${NCCL_ASYNC_ERROR_HANDLING:-1}
export TORCH_NCCL_ASYNC_ERROR_HANDLING=${TORCH_NCCL_ASYNC_ERROR_HANDLING:-1}
# WARN prints only problems; set INFO once to see which network and transport NCCL picked.
export NCCL_DEBUG=${NCCL_DEBUG:-WARN}
# On clusters with InfiniBand, NCCL finds it by itself; name the socket interface for bootstrap
# when the default route is not the fast network (e.g. NCCL_SOCKET_IFNAME=ib0).
# export NCCL_SOCKET_IFNAME=ib0

# Open MPI: do not let its progress threads fight the compute threads for cores.
export OMPI_MCA_mpi_yield_when_idle=${OMPI_MCA_mpi_yield_when_idle:-1}
