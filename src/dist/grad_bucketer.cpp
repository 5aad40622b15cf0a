// GradBucketer: pack -> one all-reduce -> unpack, through a buffer allocated once.
#include "trm/dist/grad_bucketer.hpp"

#include "trm/common/error.hpp"

namespace trm {

GradBucketer::GradBucketer(std::vector<torch::Tensor> params) : params_(std::move(params)) {
  for (const auto& p : params_) {
    TRM_CHECK(p.scalar_type() == torch::kFloat32, "GradBucketer holds float32 parameters, got " << p.scalar_type(),
              "keep parameters in float32 (forward_dtype only changes the compute)");
    numel_ += p.numel();
  }
  const auto device = params_.empty() ? torch::Device(torch::kCPU) : params_.front().device();
  buffer_ = torch::zeros({numel_}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
}

void GradBucketer::pack_grads() {
  int64_t offset = 0;
  for (const auto& p : params_) {
    auto slice = buffer_.narrow(0, offset, p.numel());
    if (p.grad().defined()) slice.copy_(p.grad().reshape({-1}));
    else slice.zero_();
    offset += p.numel();
  }
}

void GradBucketer::unpack_grads() {
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (auto& p : params_) {
    auto slice = buffer_.narrow(0, offset, p.numel()).view(p.sizes());
    if (p.grad().defined()) p.mutable_grad().copy_(slice);
    else p.mutable_grad() = slice.clone();
    offset += p.numel();
  }
}

void GradBucketer::all_reduce(Communicator& comm) {
  if (comm.world_size() == 1) return;
  pack_grads();
  comm.all_reduce_sum(buffer_);
  unpack_grads();
}

void GradBucketer::broadcast_values(Communicator& comm, int root) {
  if (comm.world_size() == 1) return;
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (const auto& p : params_) {
    buffer_.narrow(0, offset, p.numel()).copy_(p.detach().reshape({-1}));
    offset += p.numel();
  }
  comm.broadcast(buffer_, root);
  offset = 0;
  for (auto& p : params_) {
    p.detach().copy_(buffer_.narrow(0, offset, p.numel()).view(p.sizes()));
    offset += p.numel();
  }
}

}  // namespace trm
