// Fused operations of the TRM block (see fused_ops.hpp).
#include "fused_ops.hpp"

#include <torch/version.h>

#include <cmath>

namespace trm {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

bool needs_graph(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad());
}

// y = s * r with s = float(a + b), r = rsqrt(mean(s^2, dim) + eps); s is a fresh temporary, so
// it is normalised in place.
std::pair<torch::Tensor, torch::Tensor> normalise_sum(const torch::Tensor& a,
                                                      const torch::Tensor& b, double eps,
                                                      int64_t dim) {
  auto s = a.add(b);
  if (s.scalar_type() != torch::kFloat32) s = s.to(torch::kFloat32);
  auto r = s.square().mean(dim, /*keepdim=*/true).add_(eps).rsqrt_();
  s.mul_(r);
  return {s, r};
}

class ResidualRmsNormFn : public torch::autograd::Function<ResidualRmsNormFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& a,
                               const torch::Tensor& b, double eps, int64_t dim) {
    auto [y, r] = normalise_sum(a, b, eps, dim);
    ctx->save_for_backward({y, r});
    ctx->saved_data["dim"] = dim;
    ctx->saved_data["a_dtype"] = static_cast<int64_t>(a.scalar_type());
    ctx->saved_data["b_dtype"] = static_cast<int64_t>(b.scalar_type());
    return y.to(a.scalar_type());
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto& y = saved[0];
    const auto& r = saved[1];
    const int64_t dim = ctx->saved_data["dim"].toInt();
    auto g = grad_outputs[0].to(torch::kFloat32);
    // d/ds of s * rsqrt(mean(s^2) + eps) applied to g: r * (g - y * mean(g * y)).
    const auto m = (g * y).mean(dim, /*keepdim=*/true);
    auto dx = g.sub(y * m).mul_(r);
    const auto a_dtype = static_cast<torch::ScalarType>(ctx->saved_data["a_dtype"].toInt());
    const auto b_dtype = static_cast<torch::ScalarType>(ctx->saved_data["b_dtype"].toInt());
    return {dx.to(a_dtype), dx.to(b_dtype), torch::Tensor(), torch::Tensor()};
  }
};

// Views of the gate and up halves of gate_up along dim.
std::pair<torch::Tensor, torch::Tensor> split_gate_up(const torch::Tensor& gate_up, int64_t dim) {
  const int64_t inter = gate_up.size(dim) / 2;
  return {gate_up.narrow(dim, 0, inter), gate_up.narrow(dim, inter, inter)};
}

class SwiGLUActivationFn : public torch::autograd::Function<SwiGLUActivationFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& gate_up, int64_t dim) {
    auto [gate, up] = split_gate_up(gate_up, dim);
    ctx->save_for_backward({gate_up});
    ctx->saved_data["dim"] = dim;
    return torch::silu(gate).mul_(up);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto gate_up = ctx->get_saved_variables()[0];
    const int64_t dim = ctx->saved_data["dim"].toInt();
    const auto& grad = grad_outputs[0];
    auto [gate, up] = split_gate_up(gate_up, dim);
    auto d_gate_up = torch::empty_like(gate_up);
    auto [d_gate, d_up] = split_gate_up(d_gate_up, dim);
    auto sig = torch::sigmoid(gate);
    auto silu = gate * sig;
    torch::mul_out(d_up, grad, silu);
    // silu'(g) = sig * (1 + g * (1 - sig))
    auto dsilu = torch::rsub(sig, 1.0).mul_(gate).add_(1.0).mul_(sig);
    torch::mul_out(d_gate, grad, up);
    d_gate.mul_(dsilu);
    return {d_gate_up, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor residual_rms_norm(const torch::Tensor& a, const torch::Tensor& b, double eps,
                                int64_t dim) {
  if (needs_graph(a, b)) return ResidualRmsNormFn::apply(a, b, eps, dim);
  auto y = normalise_sum(a, b, eps, dim).first;
  return y.to(a.scalar_type());
}

torch::Tensor swiglu_activation(const torch::Tensor& gate_up, int64_t dim) {
  if (dim < 0) dim += gate_up.dim();
  if (torch::GradMode::is_enabled() && gate_up.requires_grad()) {
    return SwiGLUActivationFn::apply(gate_up, dim);
  }
  auto [gate, up] = split_gate_up(gate_up, dim);
  return torch::silu(gate).mul_(up);
}

torch::Tensor bidirectional_attention(const torch::Tensor& q, const torch::Tensor& k,
                                      const torch::Tensor& v) {
#if TORCH_VERSION_MAJOR >= 2
  return at::scaled_dot_product_attention(q, k, v);
#else
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  const auto scores = torch::matmul(q * scale, k.transpose(-2, -1));  // [b, h, seq, seq]
  return torch::matmul(torch::softmax(scores, -1), v);
#endif
}

}  // namespace trm
