// NCCL backend of Communicator (compiled with TRM_WITH_NCCL): CUDA tensors are reduced and
// gathered by NCCL; control traffic (the unique id, strings, flags, gather sizes) goes over
// the MPI communicator it wraps, which is all MPI does here (bootstrap). A failed NCCL or CUDA
// call aborts the NCCL communicator (ncclCommAbort) before throwing, so peers blocked in a
// collective fail.
// Collectives are enqueued on LibTorch's current stream of the device, so they are ordered after
// the kernels that produced their input and before those that read their output without any host
// synchronisation (the step loop keeps the GPU queue full); a caller reading a result on the host
// (.item(), .cpu()) waits for it as for any other kernel.
#include "trm/dist/communicator.hpp"
#include "trm/dist/mpi_communicator.hpp"

#include "trm/common/error.hpp"

#ifdef TRM_WITH_NCCL
#include <cuda_runtime.h>
#include <nccl.h>
#endif
#if defined(TRM_WITH_NCCL) && defined(TRM_WITH_CUDA)
#include <c10/cuda/CUDAStream.h>
#endif

namespace trm {

#ifdef TRM_WITH_NCCL
namespace {

class NcclCommunicator : public Communicator {
 public:
  explicit NcclCommunicator(int device_index) : device_index_(device_index) {
    rank_ = mpi_.rank();
    check_cuda(cudaSetDevice(device_index), "cudaSetDevice");
    ncclUniqueId id;
    if (rank_ == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    std::string bytes(reinterpret_cast<const char*>(&id), sizeof(id));
    mpi_.broadcast_string(bytes, 0);
    std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(&id));
    check_nccl(ncclCommInitRank(&comm_, mpi_.world_size(), id, rank_), "ncclCommInitRank");
  }
  ~NcclCommunicator() override {
    if (comm_) ncclCommDestroy(comm_);
  }

  int rank() const override { return mpi_.rank(); }
  int world_size() const override { return mpi_.world_size(); }
  int local_rank() const override { return mpi_.local_rank(); }
  std::string backend_name() const override { return "nccl"; }

  void barrier() override { mpi_.barrier(); }

  void broadcast(torch::Tensor& tensor, int root) override {
    if (!tensor.is_cuda()) return mpi_.broadcast(tensor, root);
    TRM_CHECK(tensor.is_contiguous(), "NCCL broadcast of a non-contiguous tensor",
              "call .contiguous() first");
    check_nccl(ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), tensor.nbytes(), ncclUint8, root,
                             comm_, stream()),
               "ncclBroadcast");
  }

  void all_reduce_sum(torch::Tensor& tensor) override {
    if (!tensor.is_cuda()) return mpi_.all_reduce_sum(tensor);
    TRM_CHECK(tensor.is_contiguous(), "NCCL all-reduce of a non-contiguous tensor",
              "call .contiguous() first");
    check_nccl(ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(),
                             nccl_type(tensor.scalar_type()), ncclSum, comm_, stream()),
               "ncclAllReduce");
  }

  torch::Tensor all_gather(const torch::Tensor& tensor) override {
    if (!tensor.is_cuda()) return mpi_.all_gather(tensor);
    torch::Tensor local = tensor.contiguous();
    // Sizes over MPI (host values: no device synchronisation), then one padded NCCL gather.
    torch::Tensor rows = torch::full({1}, local.size(0), torch::kInt64);
    torch::Tensor all_rows = mpi_.all_gather(rows);
    const int64_t max_rows = all_rows.max().item<int64_t>();
    std::vector<int64_t> shape = local.sizes().vec();
    shape[0] = max_rows;
    torch::Tensor padded = torch::zeros(shape, local.options());
    padded.narrow(0, 0, local.size(0)).copy_(local);
    shape[0] = max_rows * world_size();
    torch::Tensor out = torch::empty(shape, local.options());
    check_nccl(ncclAllGather(padded.data_ptr(), out.data_ptr(), padded.nbytes(), ncclUint8, comm_,
                             stream()),
               "ncclAllGather");
    std::vector<torch::Tensor> parts;
    for (int r = 0; r < world_size(); ++r)
      parts.push_back(out.narrow(0, r * max_rows, all_rows[r].item<int64_t>()));
    return torch::cat(parts, 0);
  }

  [[noreturn]] void abort(int exit_code) override {
    if (comm_) ncclCommAbort(comm_);
    comm_ = nullptr;
    mpi_.abort(exit_code);
  }
  void broadcast_string(std::string& text, int root) override { mpi_.broadcast_string(text, root); }
  bool any(bool flag) override { return mpi_.any(flag); }

 private:
  static ncclDataType_t nccl_type(torch::ScalarType t) {
    switch (t) {
      case torch::kFloat32: return ncclFloat32;
      case torch::kFloat64: return ncclFloat64;
      case torch::kBFloat16: return ncclBfloat16;
      case torch::kFloat16: return ncclFloat16;
      case torch::kInt64: return ncclInt64;
      case torch::kInt32: return ncclInt32;
      default:
        TRM_FAIL("NCCL all-reduce of dtype " << t << " is not supported",
                 "reduce a floating or integer tensor");
    }
  }
  // LibTorch's current stream on our device. A LibTorch without CUDA never hands this class a
  // CUDA tensor (choose the device with torch::cuda::is_available()); the legacy default stream
  // keeps this file compiling and linking there for the build check.
  cudaStream_t stream() const {
#ifdef TRM_WITH_CUDA
    return c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device_index_)).stream();
#else
    return cudaStreamLegacy;
#endif
  }
  void fail_abort() {
    if (comm_) ncclCommAbort(comm_);
    comm_ = nullptr;
  }
  void check_nccl(ncclResult_t rc, const char* what) {
    if (rc == ncclSuccess) return;
    fail_abort();
    TRM_FAIL(what << " failed on rank " << rank_ << ": " << ncclGetErrorString(rc),
             "check NCCL_DEBUG=INFO output; another rank may have died");
  }
  void check_cuda(cudaError_t rc, const char* what) {
    if (rc == cudaSuccess) return;
    fail_abort();
    TRM_FAIL(what << " failed on rank " << rank_ << ": " << cudaGetErrorString(rc),
             "check the GPU binding (one rank per GPU, local rank = device index)");
  }

  MpiCommunicator mpi_;
  int device_index_ = 0;
  int rank_ = 0;
  ncclComm_t comm_ = nullptr;
};

}  // namespace
#endif  // TRM_WITH_NCCL

std::unique_ptr<Communicator> make_communicator(const torch::Device& device) {
#ifdef TRM_WITH_NCCL
  if (device.is_cuda())
    return std::make_unique<NcclCommunicator>(device.has_index() ? device.index() : 0);
#endif
  return make_mpi_communicator();
}

}  // namespace trm
