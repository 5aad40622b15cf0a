// CastedSparseEmbedding (see trm/model/sparse_embedding.hpp).
#include "trm/model/sparse_embedding.hpp"

namespace trm {

CastedSparseEmbeddingImpl::CastedSparseEmbeddingImpl(int64_t num_embeddings,
                                                     int64_t embedding_dim,
                                                     torch::ScalarType cast_to)
    : cast_to_(cast_to) {
  weights = register_buffer("weights", torch::zeros({num_embeddings, embedding_dim}));
}

torch::Tensor CastedSparseEmbeddingImpl::lookup(const torch::Tensor& ids) const {
  const auto flat = ids.dim() > 1 ? ids.squeeze(-1) : ids;
  return weights.index_select(0, flat.to(torch::kLong)).to(cast_to_);
}

torch::Tensor CastedSparseEmbeddingImpl::forward(const torch::Tensor& ids) {
  if (!is_training()) return lookup(ids);
  const auto flat = (ids.dim() > 1 ? ids.squeeze(-1) : ids).to(torch::kLong);
  {
    torch::NoGradGuard no_grad;
    local_weights_ = weights.index_select(0, flat);  // a fresh copy of the rows
  }
  local_weights_.requires_grad_(true);  // a leaf: its .grad() is the rows' gradient
  local_ids_ = flat;
  return local_weights_.to(cast_to_);
}

}  // namespace trm
