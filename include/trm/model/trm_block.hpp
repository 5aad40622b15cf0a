// TrmBlock and ReasoningModule: the one shared network f of TRM (DESIGN §4). A block is post-norm:
// h = rms(h + mix(h)) with mix = self-attention (RoPE) or, with mlp_t, a SwiGLU over the sequence
// axis whose RMSNorm then also runs over the sequence axis (the reference transposes before the
// norm); then h = rms(h + SwiGLU(h)). ReasoningModule: f(h, injection) = blocks(h + injection).
// Submodule names follow the reference state dict: layers.<i>.self_attn / .mlp_t / .mlp.
#pragma once

#include <torch/torch.h>

#include "trm/config/arch_config.hpp"
#include "trm/model/layers.hpp"

namespace trm {

class TrmBlockImpl : public torch::nn::Module {
 public:
  TrmBlockImpl(const ArchConfig& arch, const DataShape& shape);
  // h [batch, puzzle_emb_len + seq_len, hidden] -> same shape. rope may be nullptr.
  torch::Tensor forward(const torch::Tensor& h, const RotaryTables* rope);

  Attention self_attn{nullptr};  // registered unless mlp_t
  SwiGLU mlp_t{nullptr};         // registered when mlp_t; hidden = puzzle_emb_len + seq_len
  SwiGLU mlp{nullptr};

 private:
  double norm_eps_;
};
TORCH_MODULE(TrmBlock);

class ReasoningModuleImpl : public torch::nn::Module {
 public:
  ReasoningModuleImpl(const ArchConfig& arch, const DataShape& shape, int64_t num_layers);
  // blocks(h + injection); h, injection [batch, positions, hidden].
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& injection,
                        const RotaryTables* rope);

  torch::nn::ModuleList layers{nullptr};

 private:
  std::vector<TrmBlock> blocks_;
};
TORCH_MODULE(ReasoningModule);

}  // namespace trm
