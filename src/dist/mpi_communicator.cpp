// MPI backend of Communicator. CUDA tensors are staged through host copies (the NCCL backend is
// the fast path for them). Sums need a numeric MPI type; broadcasts and gathers move raw bytes so
// that any dtype (bfloat16 included) travels.
#include "trm/dist/mpi_communicator.hpp"

#include <cstdio>
#include <vector>

#include "trm/common/error.hpp"

namespace trm {

void check_mpi(int rc, const char* what, int rank) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  TRM_FAIL(what << " failed on rank " << rank << ": " << std::string(text, len),
           "another rank probably died; look for its error message above");
}

MpiSession::MpiSession(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return;
  int provided = 0;
  check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread", -1);
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

namespace {

MPI_Datatype sum_type(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return MPI_FLOAT;
    case torch::kFloat64: return MPI_DOUBLE;
    case torch::kInt64: return MPI_INT64_T;
    case torch::kInt32: return MPI_INT32_T;
    default:
      TRM_FAIL("MPI all-reduce of dtype " << t << " is not supported",
               "reduce float32, float64, int32 or int64 tensors");
  }
}

// A contiguous host tensor holding `t`'s values (itself when it already is one).
torch::Tensor host_view(const torch::Tensor& t) {
  TRM_CHECK(t.is_contiguous(), "collective on a non-contiguous tensor", "call .contiguous() first");
  return t.is_cuda() ? t.cpu() : t;
}

}  // namespace

MpiCommunicator::MpiCommunicator() {
  check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup", -1);
  check_mpi(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler", -1);
  check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank", -1);
  check_mpi(MPI_Comm_size(comm_, &world_size_), "MPI_Comm_size", rank_);
  MPI_Comm node = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
            "MPI_Comm_split_type(shared)", rank_);
  check_mpi(MPI_Comm_rank(node, &local_rank_), "MPI_Comm_rank(node)", rank_);
  MPI_Comm_free(&node);
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (comm_ != MPI_COMM_NULL && !finalized) MPI_Comm_free(&comm_);
}

void MpiCommunicator::barrier() { check_mpi(MPI_Barrier(comm_), "MPI_Barrier", rank_); }

void MpiCommunicator::broadcast(torch::Tensor& tensor, int root) {
  if (world_size_ == 1) return;
  torch::Tensor host = host_view(tensor);
  check_mpi(MPI_Bcast(host.data_ptr(), static_cast<int>(host.nbytes()), MPI_BYTE, root, comm_), "MPI_Bcast",
            rank_);
  if (tensor.is_cuda()) tensor.copy_(host);
}

void MpiCommunicator::all_reduce_sum(torch::Tensor& tensor) {
  if (world_size_ == 1) return;
  torch::Tensor host = host_view(tensor);
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, host.data_ptr(), static_cast<int>(host.numel()),
                          sum_type(host.scalar_type()), MPI_SUM, comm_),
            "MPI_Allreduce", rank_);
  if (tensor.is_cuda()) tensor.copy_(host);
}

torch::Tensor MpiCommunicator::all_gather(const torch::Tensor& tensor) {
  if (world_size_ == 1) return tensor.clone();
  torch::Tensor host = host_view(tensor.contiguous());
  TRM_CHECK(host.dim() >= 1, "all_gather needs a tensor with a leading dimension", "unsqueeze(0) it");
  int64_t row_bytes = static_cast<int64_t>(host.element_size());  // bytes of one [1, ...] slice
  for (int64_t d = 1; d < host.dim(); ++d) row_bytes *= host.size(d);
  int64_t rows = host.size(0);
  std::vector<int64_t> all_rows(world_size_);
  check_mpi(MPI_Allgather(&rows, 1, MPI_INT64_T, all_rows.data(), 1, MPI_INT64_T, comm_), "MPI_Allgather(sizes)",
            rank_);
  std::vector<int> counts(world_size_), displs(world_size_);
  int64_t total_rows = 0;
  for (int r = 0; r < world_size_; ++r) {
    counts[r] = static_cast<int>(all_rows[r] * row_bytes);
    displs[r] = static_cast<int>(total_rows * row_bytes);
    total_rows += all_rows[r];
  }
  std::vector<int64_t> shape = host.sizes().vec();
  shape[0] = total_rows;
  torch::Tensor out = torch::empty(shape, host.options());
  check_mpi(MPI_Allgatherv(host.data_ptr(), counts[rank_], MPI_BYTE, out.data_ptr(), counts.data(), displs.data(),
                           MPI_BYTE, comm_),
            "MPI_Allgatherv", rank_);
  return tensor.is_cuda() ? out.to(tensor.device()) : out;
}

void MpiCommunicator::abort(int exit_code) {
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);  // MPI_Abort should not return; make sure
}

void MpiCommunicator::broadcast_string(std::string& text, int root) {
  if (world_size_ == 1) return;
  int64_t size = static_cast<int64_t>(text.size());
  check_mpi(MPI_Bcast(&size, 1, MPI_INT64_T, root, comm_), "MPI_Bcast(string size)", rank_);
  text.resize(static_cast<size_t>(size));
  check_mpi(MPI_Bcast(text.data(), static_cast<int>(size), MPI_CHAR, root, comm_), "MPI_Bcast(string)", rank_);
}

bool MpiCommunicator::any(bool flag) {
  if (world_size_ == 1) return flag;
  int local = flag ? 1 : 0, global = 0;
  check_mpi(MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_LOR, comm_), "MPI_Allreduce(any)", rank_);
  return global != 0;
}

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<MpiCommunicator>(); }

}  // namespace trm
