// The building blocks of the TRM network, with the semantics of the reference's models/layers.py
// and models/common.py: corrected truncated-normal LeCun init, bias-free "casted" linear and
// embedding layers (weights stay float32, computation runs in the input's/forward dtype), RoPE in
// the half-rotation layout, RMSNorm in float32 without scale, SwiGLU with its inner width rounded
// up to a multiple of 256, and bidirectional multi-head attention.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace trm {

// Smallest multiple of b that is >= a (the reference's _find_multiple).
int64_t find_multiple(int64_t a, int64_t b);

// SwiGLU inner width: find_multiple(round(expansion * hidden * 2 / 3), 256). Python's round()
// rounds half to even; this does too.
int64_t swiglu_inner_width(int64_t hidden, double expansion);

// Fills `tensor` in place from a normal(0, std) truncated to [lower*std, upper*std], with the
// std corrected for the truncation so that the result really has standard deviation `std`
// (the JAX/flax initialiser the reference ports; NOT torch::nn::init::trunc_normal_). Draws
// uniform_ then erfinv_ from the default CPU generator, so torch::manual_seed(s) before
// construction reproduces the same numbers as the Python reference seeded with s. std == 0
// zero-fills. Returns `tensor`.
torch::Tensor trunc_normal_init_(torch::Tensor tensor, double std, double lower = -2.0,
                                 double upper = 2.0);

// x * rsqrt(mean(x^2 over `dim`) + eps), computed in float32, returned in x's dtype. No scale.
torch::Tensor rms_norm(const torch::Tensor& x, double eps, int64_t dim = -1);

// Linear layer y = x W^T (+ b). weight [out, in] float32, truncated-normal LeCun init
// (std 1/sqrt(in)); bias zero-initialised when present. Weights are cast to x's dtype.
class CastedLinearImpl : public torch::nn::Module {
 public:
  CastedLinearImpl(int64_t in_features, int64_t out_features, bool bias);
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight;  // [out_features, in_features], parameter "weight"
  torch::Tensor bias;    // [out_features], parameter "bias"; undefined when bias == false
};
TORCH_MODULE(CastedLinear);

// Embedding table, parameter "embedding_weight" [num_embeddings, embedding_dim] float32,
// truncated-normal init with `init_std`; lookups return `cast_to`.
class CastedEmbeddingImpl : public torch::nn::Module {
 public:
  CastedEmbeddingImpl(int64_t num_embeddings, int64_t embedding_dim, double init_std,
                      torch::ScalarType cast_to);
  torch::Tensor forward(const torch::Tensor& ids);  // ids [...] int -> [..., embedding_dim]

  torch::Tensor embedding_weight;
  torch::ScalarType cast_to;
};
TORCH_MODULE(CastedEmbedding);

// RoPE tables, cos and sin [max_positions, head_dim] float32, frequencies repeated as
// cat(freqs, freqs) (the reference's half-rotation layout). Not part of the state dict (the
// reference registers them as non-persistent buffers).
struct RotaryTables {
  torch::Tensor cos;
  torch::Tensor sin;
};
RotaryTables make_rotary_tables(int64_t head_dim, int64_t max_positions, double base);

// cat(-x2, x1) of the two halves of the last dimension.
torch::Tensor rotate_half(const torch::Tensor& x);
// x [batch, seq, heads, head_dim]; cos/sin [seq, head_dim]: x*cos + rotate_half(x)*sin,
// computed in cos's dtype (float32), returned in x's dtype.
torch::Tensor apply_rotary_pos_emb(const torch::Tensor& x, const torch::Tensor& cos,
                                   const torch::Tensor& sin);

// Bidirectional multi-head self-attention without bias: qkv_proj [(H + 2*KV)*head_dim, hidden],
// o_proj [hidden, H*head_dim]. RoPE is applied to q and k when tables are given.
class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int64_t hidden_size, int64_t head_dim, int64_t num_heads,
                int64_t num_key_value_heads);
  // x [batch, seq, hidden] -> [batch, seq, hidden]; rope may be nullptr (no rotary).
  torch::Tensor forward(const torch::Tensor& x, const RotaryTables* rope);

  CastedLinear qkv_proj{nullptr};
  CastedLinear o_proj{nullptr};

 private:
  int64_t head_dim_;
  int64_t num_heads_;
  int64_t num_key_value_heads_;
};
TORCH_MODULE(Attention);

// SwiGLU MLP: down_proj(silu(gate) * up) with (gate, up) = chunk(gate_up_proj(x), 2).
// gate_up_proj [2*inter, hidden], down_proj [hidden, inter], inter = swiglu_inner_width.
class SwiGLUImpl : public torch::nn::Module {
 public:
  SwiGLUImpl(int64_t hidden_size, double expansion);
  // Mixes the last dimension: x [..., hidden] -> [..., hidden].
  torch::Tensor forward(const torch::Tensor& x);
  // Mixes dimension 1 of x [batch, hidden, features] -> [batch, hidden, features], i.e.
  // forward(x.transpose(1, 2)).transpose(1, 2) without materialising the transposes; this is
  // the token-mixing MLP (mlp_t) applied to [batch, seq, hidden] activations.
  torch::Tensor forward_dim1(const torch::Tensor& x);

  int64_t inter() const { return inter_; }

  CastedLinear gate_up_proj{nullptr};
  CastedLinear down_proj{nullptr};

 private:
  int64_t inter_;
};
TORCH_MODULE(SwiGLU);

}  // namespace trm
