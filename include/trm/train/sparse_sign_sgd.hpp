// SparseSignSgd: the puzzle-embedding optimizer (the reference's
// CastedSparseEmbeddingSignSGD_Distributed). Each step, every rank's touched ids [b] and the
// gradients of their gathered rows [b, dim] are all-gathered, summed per distinct id, and the
// touched rows are updated identically on every rank:
//   row *= 1 - lr*wd;  row -= lr * sign(summed grad).
// Rows not touched this step are left alone (no decay), so the tables stay equal across ranks.
#pragma once

#include <torch/torch.h>

#include "trm/dist/communicator.hpp"

namespace trm {

class SparseSignSgd {
 public:
  // `table` [num_ids, dim] float32, updated in place.
  SparseSignSgd(torch::Tensor table, double weight_decay);

  // ids [b] integer, grads [b, dim] (this rank's rows; b may differ per rank). `comm` may be null
  // for a single process.
  void step(const torch::Tensor& ids, const torch::Tensor& grads, double lr, Communicator* comm);

  const torch::Tensor& table() const { return table_; }

 private:
  torch::Tensor table_;
  double weight_decay_;
};

}  // namespace trm
