// CastedSparseEmbedding: the per-puzzle embedding table of the reference
// (models/sparse_embedding.py). The table is a buffer, not a parameter: the dense optimizer never
// sees it, the state dict still holds it as "weights". In training, forward() gathers the rows of
// the batch into a fresh leaf tensor (requires_grad) whose gradient after backward, together with
// the matching ids, is what the sparse sign-SGD optimizer applies; in eval it reads the table.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace trm {

class CastedSparseEmbeddingImpl : public torch::nn::Module {
 public:
  // Zero-initialised table [num_embeddings, embedding_dim] float32 (init_std 0 as the reference).
  CastedSparseEmbeddingImpl(int64_t num_embeddings, int64_t embedding_dim,
                            torch::ScalarType cast_to);

  // ids [batch] (or [batch, 1]) integer -> [batch, embedding_dim] in cast_to.
  // Training: records local_ids() and a new leaf local_weights() = weights[ids] (float32,
  // requires_grad) and returns it cast. Eval: returns weights[ids] cast, records nothing.
  torch::Tensor forward(const torch::Tensor& ids);

  // Like forward() in eval mode whatever the module's mode: a read of the table that records
  // nothing (used by the no-grad Q-continue target pass so the recorded leaf stays the one of the
  // loss pass).
  torch::Tensor lookup(const torch::Tensor& ids) const;

  // The leaf gathered by the last training forward(): [batch, embedding_dim] float32; its
  // .grad() holds d(loss)/d(rows) after backward. Undefined before the first training forward.
  const torch::Tensor& local_weights() const { return local_weights_; }
  // The ids of the last training forward(): [batch] int64, same device as the table.
  const torch::Tensor& local_ids() const { return local_ids_; }

  torch::Tensor weights;  // [num_embeddings, embedding_dim] float32, buffer "weights"

 private:
  torch::ScalarType cast_to_;
  torch::Tensor local_weights_;
  torch::Tensor local_ids_;
};
TORCH_MODULE(CastedSparseEmbedding);

}  // namespace trm
