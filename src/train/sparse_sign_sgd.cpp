// SparseSignSgd::step: gather, sum per id, sign update of the touched rows.
#include "trm/train/sparse_sign_sgd.hpp"

#include "trm/common/error.hpp"

namespace trm {

SparseSignSgd::SparseSignSgd(torch::Tensor table, double weight_decay)
    : table_(std::move(table)), weight_decay_(weight_decay) {
  TRM_CHECK(table_.dim() == 2, "puzzle-embedding table must be [num_ids, dim]", "check the model");
}

void SparseSignSgd::step(const torch::Tensor& ids, const torch::Tensor& grads, double lr, Communicator* comm) {
  torch::NoGradGuard no_grad;
  const int64_t dim = table_.size(1);
  torch::Tensor local_ids = ids.reshape({-1}).to(table_.device(), torch::kInt64).contiguous();
  torch::Tensor local_grads = grads.reshape({-1, dim}).to(table_.device(), torch::kFloat32).contiguous();
  TRM_CHECK(local_ids.size(0) == local_grads.size(0),
            "sign-SGD got " << local_ids.size(0) << " ids but " << local_grads.size(0) << " gradient rows",
            "ids and gradients must come from the same forward");
  torch::Tensor all_ids = local_ids, all_grads = local_grads;
  if (comm != nullptr && comm->world_size() > 1) {
    all_ids = comm->all_gather(local_ids);
    all_grads = comm->all_gather(local_grads);
  }
  // [n_unique] distinct ids and, per gathered row, the index of its id among them.
  torch::Tensor unique_ids, inverse;
  std::tie(unique_ids, inverse, std::ignore) = torch::_unique2(all_ids, /*sorted=*/true, /*return_inverse=*/true);
  torch::Tensor summed = torch::zeros({unique_ids.size(0), dim}, all_grads.options());
  summed.index_add_(0, inverse.reshape({-1}), all_grads);
  torch::Tensor rows = table_.index_select(0, unique_ids);
  rows.mul_(1.0 - lr * weight_decay_).add_(summed.sign(), -lr);
  table_.index_copy_(0, unique_ids, rows);
}

}  // namespace trm
