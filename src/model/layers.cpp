// Layers of the TRM network (see trm/model/layers.hpp). The residual-add + RMSNorm pair is a
// custom autograd function: it saves only the normalised output and the inverse RMS, and in
// no-grad mode it normalises in place, which is where most of the elementwise time goes.
#include "trm/model/layers.hpp"

#include <torch/version.h>

#include <cmath>

#include "trm/common/error.hpp"
#include "fused_ops.hpp"

namespace trm {

int64_t find_multiple(int64_t a, int64_t b) { return ((a + b - 1) / b) * b; }

int64_t swiglu_inner_width(int64_t hidden, double expansion) {
  // std::nearbyint rounds half to even in the default rounding mode, like Python's round().
  const auto rounded = static_cast<int64_t>(std::nearbyint(expansion * hidden * 2.0 / 3.0));
  return find_multiple(rounded, 256);
}

torch::Tensor trunc_normal_init_(torch::Tensor tensor, double std, double lower, double upper) {
  torch::NoGradGuard no_grad;
  if (std == 0.0) return tensor.zero_();
  const double sqrt2 = std::sqrt(2.0);
  const double a = std::erf(lower / sqrt2);
  const double b = std::erf(upper / sqrt2);
  const double z = (b - a) / 2.0;
  const double c = 1.0 / std::sqrt(2.0 * M_PI);
  const double pdf_u = c * std::exp(-0.5 * lower * lower);
  const double pdf_l = c * std::exp(-0.5 * upper * upper);
  const double comp_std =
      std / std::sqrt(1.0 - (upper * pdf_u - lower * pdf_l) / z -
                      ((pdf_u - pdf_l) / z) * ((pdf_u - pdf_l) / z));
  tensor.uniform_(a, b);
  tensor.erfinv_();
  tensor.mul_(sqrt2 * comp_std);
  tensor.clamp_(lower * comp_std, upper * comp_std);
  return tensor;
}

torch::Tensor rms_norm(const torch::Tensor& x, double eps, int64_t dim) {
  const auto xf = x.to(torch::kFloat32);
  const auto variance = xf.square().mean(dim, /*keepdim=*/true);
  return (xf * torch::rsqrt(variance + eps)).to(x.scalar_type());
}

CastedLinearImpl::CastedLinearImpl(int64_t in_features, int64_t out_features, bool with_bias) {
  weight = register_parameter(
      "weight", trunc_normal_init_(torch::empty({out_features, in_features}),
                                   1.0 / std::sqrt(static_cast<double>(in_features))));
  if (with_bias) bias = register_parameter("bias", torch::zeros({out_features}));
}

torch::Tensor CastedLinearImpl::forward(const torch::Tensor& x) {
  const auto dtype = x.scalar_type();
  if (bias.defined()) return torch::linear(x, weight.to(dtype), bias.to(dtype));
  return torch::linear(x, weight.to(dtype));
}

CastedEmbeddingImpl::CastedEmbeddingImpl(int64_t num_embeddings, int64_t embedding_dim,
                                         double init_std, torch::ScalarType cast_to_dtype)
    : cast_to(cast_to_dtype) {
  embedding_weight = register_parameter(
      "embedding_weight",
      trunc_normal_init_(torch::empty({num_embeddings, embedding_dim}), init_std));
}

torch::Tensor CastedEmbeddingImpl::forward(const torch::Tensor& ids) {
  return torch::embedding(embedding_weight.to(cast_to), ids.to(torch::kLong));
}

RotaryTables make_rotary_tables(int64_t head_dim, int64_t max_positions, double base) {
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32);
  const auto inv_freq =
      1.0 / torch::pow(base, torch::arange(0, head_dim, 2, opts) / static_cast<double>(head_dim));
  const auto t = torch::arange(max_positions, opts);
  const auto freqs = torch::outer(t, inv_freq);   // [positions, head_dim / 2]
  const auto emb = torch::cat({freqs, freqs}, -1);  // [positions, head_dim]
  return RotaryTables{emb.cos(), emb.sin()};
}

torch::Tensor rotate_half(const torch::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, half, x.size(-1) - half), x.narrow(-1, 0, half)}, -1);
}

torch::Tensor apply_rotary_pos_emb(const torch::Tensor& x, const torch::Tensor& cos,
                                   const torch::Tensor& sin) {
  const auto xc = x.to(cos.scalar_type());
  const auto c = cos.unsqueeze(-2);  // [seq, 1, head_dim], broadcast over heads
  const auto s = sin.unsqueeze(-2);
  return (xc * c + rotate_half(xc) * s).to(x.scalar_type());
}

AttentionImpl::AttentionImpl(int64_t hidden_size, int64_t head_dim, int64_t num_heads,
                             int64_t num_key_value_heads)
    : head_dim_(head_dim), num_heads_(num_heads), num_key_value_heads_(num_key_value_heads) {
  qkv_proj = register_module(
      "qkv_proj",
      CastedLinear(hidden_size, (num_heads + 2 * num_key_value_heads) * head_dim, false));
  o_proj = register_module("o_proj", CastedLinear(head_dim * num_heads, hidden_size, false));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const RotaryTables* rope) {
  const int64_t batch = x.size(0);
  const int64_t seq = x.size(1);
  TRM_CHECK(num_key_value_heads_ == num_heads_,
            "grouped-query attention (" << num_key_value_heads_ << " kv heads for " << num_heads_
                                        << " heads) is not supported",
            "TRM uses num_key_value_heads == num_heads");
  const auto dtype = x.scalar_type();
  const auto rows = x.reshape({batch * seq, x.size(2)});
  if (use_cpu_attention(rows)) {
    torch::Tensor cos, sin;
    if (rope != nullptr) {
      cos = rope->cos.narrow(0, 0, seq).to(dtype).contiguous();
      sin = rope->sin.narrow(0, 0, seq).to(dtype).contiguous();
    }
    const auto out = cpu_attention(rows, qkv_proj->weight.to(dtype), o_proj->weight.to(dtype), cos,
                                   sin, batch, seq, num_heads_, head_dim_);
    return out.view({batch, seq, out.size(1)});
  }
  // [batch, seq, heads + 2 * kv_heads, head_dim]
  const auto qkv = qkv_proj->forward(x).view({batch, seq, -1, head_dim_});
  auto query = qkv.narrow(2, 0, num_heads_);
  auto key = qkv.narrow(2, num_heads_, num_key_value_heads_);
  auto value = qkv.narrow(2, num_heads_ + num_key_value_heads_, num_key_value_heads_);
  if (rope != nullptr) {
    const auto cos = rope->cos.narrow(0, 0, seq);
    const auto sin = rope->sin.narrow(0, 0, seq);
    query = apply_rotary_pos_emb(query, cos, sin);
    key = apply_rotary_pos_emb(key, cos, sin);
  }
  // [batch, heads, seq, head_dim]
  query = query.permute({0, 2, 1, 3});
  key = key.permute({0, 2, 1, 3});
  value = value.permute({0, 2, 1, 3});
  const auto attn = bidirectional_attention(query, key, value);  // [batch, heads, seq, head_dim]
  return o_proj->forward(attn.permute({0, 2, 1, 3}).reshape({batch, seq, num_heads_ * head_dim_}));
}

SwiGLUImpl::SwiGLUImpl(int64_t hidden_size, double expansion)
    : inter_(swiglu_inner_width(hidden_size, expansion)) {
  gate_up_proj = register_module("gate_up_proj", CastedLinear(hidden_size, inter_ * 2, false));
  down_proj = register_module("down_proj", CastedLinear(inter_, hidden_size, false));
}

torch::Tensor SwiGLUImpl::forward(const torch::Tensor& x) {
  const auto dtype = x.scalar_type();
  const int64_t hidden = x.size(-1);
  auto sizes = x.sizes().vec();
  const auto out = swiglu_mlp(x.reshape({-1, hidden}), gate_up_proj->weight.to(dtype),
                              down_proj->weight.to(dtype), /*rows_major=*/true);
  sizes.back() = out.size(1);
  return out.view(sizes);
}

torch::Tensor SwiGLUImpl::forward_dim1(const torch::Tensor& x) {
  // x [batch, hidden, features]. Laying it out as [hidden, batch * features] turns both
  // projections into single large GEMMs (W @ X) instead of one small GEMM per sample.
  const int64_t batch = x.size(0);
  const int64_t hidden = x.size(1);
  const int64_t features = x.size(2);
  const auto dtype = x.scalar_type();
  const auto xt = x.permute({1, 0, 2}).reshape({hidden, batch * features});
  const auto out = swiglu_mlp(xt, gate_up_proj->weight.to(dtype), down_proj->weight.to(dtype),
                              /*rows_major=*/false);  // [hidden, batch * features]
  return out.view({hidden, batch, features}).permute({1, 0, 2});
}

}  // namespace trm
