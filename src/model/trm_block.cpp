// TrmBlock and ReasoningModule (see trm/model/trm_block.hpp).
#include "trm/model/trm_block.hpp"

#include "fused_ops.hpp"
#include "trm/model/trm_inner.hpp"

namespace trm {

TrmBlockImpl::TrmBlockImpl(const ArchConfig& arch, const DataShape& shape)
    : norm_eps_(arch.rms_norm_eps) {
  // Registration order equals the reference's construction order, so that the same seed draws
  // the same initial weights.
  if (arch.mlp_t) {
    mlp_t = register_module(
        "mlp_t", SwiGLU(shape.seq_len + resolved_puzzle_emb_len(arch), arch.expansion));
  } else {
    const int64_t head_dim = arch.hidden_size / arch.num_heads;
    self_attn = register_module(
        "self_attn", Attention(arch.hidden_size, head_dim, arch.num_heads, arch.num_heads));
  }
  mlp = register_module("mlp", SwiGLU(arch.hidden_size, arch.expansion));
}

torch::Tensor TrmBlockImpl::forward(const torch::Tensor& h, const RotaryTables* rope) {
  torch::Tensor x;
  if (mlp_t) {
    // Token mixing over the positions; the reference normalises the transposed
    // [batch, hidden, positions] tensor over its last axis, i.e. over positions (dim 1 here).
    x = residual_rms_norm(h, mlp_t->forward_dim1(h), norm_eps_, /*dim=*/1);
  } else {
    x = residual_rms_norm(h, self_attn->forward(h, rope), norm_eps_, /*dim=*/-1);
  }
  return residual_rms_norm(x, mlp->forward(x), norm_eps_, /*dim=*/-1);
}

ReasoningModuleImpl::ReasoningModuleImpl(const ArchConfig& arch, const DataShape& shape,
                                         int64_t num_layers) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < num_layers; ++i) {
    blocks_.push_back(TrmBlock(arch, shape));
    layers->push_back(blocks_.back());
  }
}

torch::Tensor ReasoningModuleImpl::forward(const torch::Tensor& h, const torch::Tensor& injection,
                                           const RotaryTables* rope) {
  auto x = h + injection;
  for (auto& block : blocks_) x = block->forward(x, rope);
  return x;
}

}  // namespace trm
