// GradBucketer: all dense gradients packed into one persistent flat buffer, summed over ranks in
// ONE all-reduce, and unpacked (never one collective per parameter). The buffer is allocated once
// per parameter list (float32, on the parameters' device); a parameter without a gradient
// contributes zeros and receives the sum (so every rank takes the same optimizer step).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "trm/dist/communicator.hpp"

namespace trm {

class GradBucketer {
 public:
  explicit GradBucketer(std::vector<torch::Tensor> params);

  // grads <- sum over ranks of grads (in place). With world size 1 nothing moves.
  void all_reduce(Communicator& comm);

  // Parameter values: broadcast from `root` through the same buffer (start of training).
  void broadcast_values(Communicator& comm, int root);

  int64_t numel() const { return numel_; }
  const torch::Tensor& buffer() const { return buffer_; }

 private:
  void pack_grads();
  void unpack_grads();

  std::vector<torch::Tensor> params_;
  torch::Tensor buffer_;  // [numel] float32
  int64_t numel_ = 0;
};

}  // namespace trm
