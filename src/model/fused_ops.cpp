// Fused operations of the TRM block (see fused_ops.hpp).
#include "fused_ops.hpp"

#include "attention_kernel.hpp"
#include "norm_kernel.hpp"
#include "swiglu_kernel.hpp"
#include "trm/common/error.hpp"
#include "trm/model/cpu_gemm.hpp"

#include <ATen/Parallel.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace trm {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

bool needs_graph(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad());
}

// The [outer, n, inner] geometry of a + b normalised over `dim` for the fused loops: float32
// CPU operands of one shape, normalised over the last axis of contiguous tensors or over axis 1
// of 3-D tensors with unit stride in the last axis (the mlp_t output is such a permuted view).
struct NormGeometry {
  int64_t outer = 0, n = 0, inner = 0;
  NormOperand a{}, b{};
};

bool fused_norm_geometry(const torch::Tensor& a, const torch::Tensor& b, int64_t dim,
                         NormGeometry& g) {
  if (!a.device().is_cpu() || a.scalar_type() != torch::kFloat32 ||
      b.scalar_type() != torch::kFloat32 || a.sizes() != b.sizes() || a.dim() < 1)
    return false;
  const int64_t d = dim < 0 ? dim + a.dim() : dim;
  if (d == a.dim() - 1 && a.is_contiguous() && b.is_contiguous()) {
    g.n = a.size(d);
    g.outer = g.n == 0 ? 0 : a.numel() / g.n;
    g.inner = 1;
    g.a = {a.data_ptr<float>(), g.n, 1};
    g.b = {b.data_ptr<float>(), g.n, 1};
    return g.n > 0;
  }
  if (a.dim() == 3 && d == 1 && a.stride(2) == 1 && b.stride(2) == 1 && a.size(1) > 0) {
    g.outer = a.size(0);
    g.n = a.size(1);
    g.inner = a.size(2);
    g.a = {a.data_ptr<float>(), a.stride(0), a.stride(1)};
    g.b = {b.data_ptr<float>(), b.stride(0), b.stride(1)};
    return true;
  }
  return false;
}

// Outer indices per parallel task: about 16k elements each.
int64_t norm_grain(const NormGeometry& g) {
  return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, g.n * g.inner));
}

// y = s * r with s = float(a + b), r = rsqrt(mean(s^2, dim) + eps): one fused pass on float32
// CPU tensors, ATen ops otherwise (there s is a fresh temporary, normalised in place).
std::pair<torch::Tensor, torch::Tensor> normalise_sum(const torch::Tensor& a,
                                                      const torch::Tensor& b, double eps,
                                                      int64_t dim) {
  NormGeometry g;
  if (fused_norm_geometry(a, b, dim, g)) {
    auto y = torch::empty(a.sizes(), a.options().memory_format(torch::MemoryFormat::Contiguous));
    auto r_sizes = a.sizes().vec();
    r_sizes[dim < 0 ? dim + a.dim() : dim] = 1;
    auto r = torch::empty(r_sizes, a.options());
    float* yp = y.data_ptr<float>();
    float* rp = r.data_ptr<float>();
    at::parallel_for(0, g.outer, norm_grain(g), [&](int64_t begin, int64_t end) {
      rms_forward(g.a, g.b, begin, end, g.n, g.inner, static_cast<float>(eps), yp, rp);
    });
    return {y, r};
  }
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
    torch::Tensor dx;
    NormGeometry geo;
    if (y.is_contiguous() && r.is_contiguous() && fused_norm_geometry(y, y, dim, geo)) {
      g = g.contiguous();
      dx = torch::empty_like(y);
      const float* gp = g.data_ptr<float>();
      const float* yp = y.data_ptr<float>();
      const float* rp = r.data_ptr<float>();
      float* dxp = dx.data_ptr<float>();
      at::parallel_for(0, geo.outer, norm_grain(geo), [&](int64_t begin, int64_t end) {
        rms_backward(gp, yp, rp, begin, end, geo.n, geo.inner, dxp);
      });
    } else {
      const auto m = (g * y).mean(dim, /*keepdim=*/true);
      dx = g.sub(y * m).mul_(r);
    }
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

// Row geometry of the gate/up halves of a contiguous gate_up tensor split along dim 1
// ([rows, 2 * inter]: row r's gate at r * 2 * inter) or dim 0 ([2 * inter, cols]: gate rows first).
struct GateUpRows {
  int64_t rows, len, stride, up_offset;
};
GateUpRows gate_up_rows(const torch::Tensor& gate_up, int64_t dim) {
  const int64_t inter = gate_up.size(dim) / 2;
  if (dim == 1) return {gate_up.size(0), inter, 2 * inter, inter};
  return {inter, gate_up.size(1), gate_up.size(1), inter * gate_up.size(1)};
}

bool use_float_kernel(const torch::Tensor& t) {
  return t.device().is_cpu() && t.scalar_type() == torch::kFloat32 && t.is_contiguous() &&
         t.dim() == 2;
}

// Rows per parallel task: about 64 KiB of floats per task.
int64_t grain_rows(int64_t len) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, len)); }

// silu(g) * u for the halves of gate_up along `dim` (fresh [.., inter] tensor).
torch::Tensor swiglu_forward(const torch::Tensor& gate_up, int64_t dim) {
  if (use_float_kernel(gate_up)) {
    const auto geo = gate_up_rows(gate_up, dim);
    auto act = torch::empty({geo.rows, geo.len}, gate_up.options());
    const float* base = gate_up.data_ptr<float>();
    float* out = act.data_ptr<float>();
    at::parallel_for(0, geo.rows, grain_rows(geo.len), [&](int64_t begin, int64_t end) {
      swiglu_forward_rows(base + begin * geo.stride, base + geo.up_offset + begin * geo.stride,
                          geo.stride, end - begin, geo.len, out + begin * geo.len);
    });
    return act;
  }
  auto [gate, up] = split_gate_up(gate_up, dim);
  return torch::silu(gate).mul_(up);
}

// Backward of the activation: fills d_gate_up and returns the recomputed activation.
torch::Tensor swiglu_backward(const torch::Tensor& gate_up, const torch::Tensor& d_act,
                              int64_t dim, torch::Tensor& d_gate_up) {
  d_gate_up = torch::empty_like(gate_up);
  if (use_float_kernel(gate_up) && use_float_kernel(d_act)) {
    const auto geo = gate_up_rows(gate_up, dim);
    auto act = torch::empty({geo.rows, geo.len}, gate_up.options());
    const float* base = gate_up.data_ptr<float>();
    const float* dact = d_act.data_ptr<float>();
    float* out = act.data_ptr<float>();
    float* dbase = d_gate_up.data_ptr<float>();
    at::parallel_for(0, geo.rows, grain_rows(geo.len), [&](int64_t begin, int64_t end) {
      const int64_t off = begin * geo.stride;
      swiglu_backward_rows(base + off, base + geo.up_offset + off, geo.stride,
                           dact + begin * geo.len, end - begin, geo.len, out + begin * geo.len,
                           dbase + off, dbase + geo.up_offset + off);
    });
    return act;
  }
  auto [gate, up] = split_gate_up(gate_up, dim);
  auto [d_gate, d_up] = split_gate_up(d_gate_up, dim);
  const auto silu = torch::silu(gate);
  torch::mul_out(d_up, d_act, silu);
  torch::mul_out(d_gate, d_act, up);
  at::silu_backward_out(d_gate, d_gate, gate);  // in place: d_gate *= silu'(gate)
  return silu.mul_(up);
}

// Rows (rows_major) or columns per chunk of the chunked MLP: the chunk's [.., 2 * inter]
// projection (about 1 MiB) stays in cache between its GEMM, the activation and the down GEMM,
// instead of a [rows, 2 * inter] tensor streaming through memory three times. The threads take
// whole chunks (single-threaded GEMMs inside): one parallel region per MLP call instead of three
// per chunk, whose barriers cost a two-thread process a third of its second core.
int64_t chunk_size(int64_t inter) { return std::max<int64_t>(64, (1 << 18) / (2 * inter)); }

// Raw pointers of the chunked MLP's operands (weights made contiguous, kept alive here).
struct MlpBuffers {
  MlpBuffers(const torch::Tensor& x_, const torch::Tensor& w_gate_up, const torch::Tensor& w_down,
             torch::Tensor& out_, torch::Tensor* gate_up_full)
      : w_gu_t(w_gate_up.contiguous()),
        w_d_t(w_down.contiguous()),
        x(x_.data_ptr<float>()),
        w_gu(w_gu_t.data_ptr<float>()),
        w_d(w_d_t.data_ptr<float>()),
        full(gate_up_full != nullptr ? gate_up_full->data_ptr<float>() : nullptr),
        out(out_.data_ptr<float>()) {}
  torch::Tensor w_gu_t, w_d_t;
  const float *x, *w_gu, *w_d;
  float *full, *out;
};

// x [rows, in] -> [rows, out], in row chunks. When gate_up_full is given, the full projection is
// also written there (kept for backward).
torch::Tensor chunked_rows_forward(const torch::Tensor& x, const torch::Tensor& w_gate_up,
                                   const torch::Tensor& w_down, torch::Tensor* gate_up_full) {
  const int64_t rows = x.size(0), in = x.size(1);
  const int64_t inter = w_down.size(1), out_dim = w_down.size(0);
  auto out = torch::empty({rows, out_dim}, x.options());
  if (gate_up_full != nullptr) *gate_up_full = torch::empty({rows, 2 * inter}, x.options());
  const MlpBuffers m(x, w_gate_up, w_down, out, gate_up_full);
  const int64_t chunk = chunk_size(inter);
  at::parallel_for(0, (rows + chunk - 1) / chunk, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> gu_buf(m.full != nullptr ? 0 : chunk * 2 * inter), act(chunk * inter);
    for (int64_t c = begin; c < end; ++c) {
      const int64_t r0 = c * chunk, n = std::min(chunk, rows - r0);
      float* gu = m.full != nullptr ? m.full + r0 * 2 * inter : gu_buf.data();
      sgemm('N', 'T', n, 2 * inter, in, 1.0f, m.x + r0 * in, in, m.w_gu, in, gu, 2 * inter);
      swiglu_forward_rows(gu, gu + inter, 2 * inter, n, inter, act.data());
      sgemm('N', 'T', n, out_dim, inter, 1.0f, act.data(), inter, m.w_d, inter,
            m.out + r0 * out_dim, out_dim);
    }
  });
  return out;
}

// x [in, cols] -> [out, cols], in column chunks. When gate_up_full is given, the full
// projection is also copied there (kept for backward).
torch::Tensor chunked_cols_forward(const torch::Tensor& x, const torch::Tensor& w_gate_up,
                                   const torch::Tensor& w_down, torch::Tensor* gate_up_full) {
  const int64_t in = x.size(0), cols = x.size(1);
  const int64_t inter = w_down.size(1), out_dim = w_down.size(0);
  auto out = torch::empty({out_dim, cols}, x.options());
  if (gate_up_full != nullptr) *gate_up_full = torch::empty({2 * inter, cols}, x.options());
  const MlpBuffers m(x, w_gate_up, w_down, out, gate_up_full);
  const int64_t chunk = chunk_size(inter);
  at::parallel_for(0, (cols + chunk - 1) / chunk, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> gu(2 * inter * chunk), act(inter * chunk);
    for (int64_t c = begin; c < end; ++c) {
      const int64_t c0 = c * chunk, n = std::min(chunk, cols - c0);
      // The chunk's projection [2 * inter, n] dense (written in place into the full tensor, at
      // a leading dimension of cols, GEMM and activation ran 10% slower: cache-set conflicts of
      // the power-of-two row stride).
      sgemm('N', 'N', 2 * inter, n, in, 1.0f, m.w_gu, in, m.x + c0, cols, gu.data(), n);
      if (m.full != nullptr) {
        for (int64_t r = 0; r < 2 * inter; ++r)
          std::copy_n(gu.data() + r * n, n, m.full + r * cols + c0);
      }
      swiglu_forward_rows(gu.data(), gu.data() + inter * n, n, inter, n, act.data());
      sgemm('N', 'N', out_dim, n, inter, 1.0f, m.w_d, inter, act.data(), n, m.out + c0, cols);
    }
  });
  return out;
}

class SwiGLUMlpFn : public torch::autograd::Function<SwiGLUMlpFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& w_gate_up, const torch::Tensor& w_down,
                               bool rows_major) {
    torch::Tensor gate_up;
    torch::Tensor out;
    if (use_float_kernel(x)) {
      out = rows_major ? chunked_rows_forward(x, w_gate_up, w_down, &gate_up)
                       : chunked_cols_forward(x, w_gate_up, w_down, &gate_up);
    } else {
      gate_up = rows_major ? gemm(x, w_gate_up.t()) : gemm(w_gate_up, x);
      const auto act = swiglu_forward(gate_up, rows_major ? 1 : 0);
      out = rows_major ? gemm(act, w_down.t()) : gemm(w_down, act);
    }
    ctx->save_for_backward({x, w_gate_up, w_down, gate_up});
    ctx->saved_data["rows_major"] = rows_major;
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& w_gate_up = saved[1];
    const auto& w_down = saved[2];
    const auto& gate_up = saved[3];
    const bool rows_major = ctx->saved_data["rows_major"].toBool();
    const int64_t dim = rows_major ? 1 : 0;
    const auto grad = grad_outputs[0].contiguous();
    // The activation is recomputed here rather than saved by the forward pass.
    const auto d_act = rows_major ? gemm(grad, w_down) : gemm(w_down.t(), grad);
    torch::Tensor d_gate_up;
    const auto act = swiglu_backward(gate_up, d_act, dim, d_gate_up);
    const auto d_w_down = rows_major ? gemm(grad.t(), act) : gemm(grad, act.t());
    const auto d_w_gate_up =
        rows_major ? gemm(d_gate_up.t(), x) : gemm(d_gate_up, x.t());
    const auto d_x =
        rows_major ? gemm(d_gate_up, w_gate_up) : gemm(w_gate_up.t(), d_gate_up);
    return {d_x, d_w_gate_up, d_w_down, torch::Tensor()};
  }
};


// --- Fused CPU attention ---------------------------------------------------------------------
// Per (batch, head) pair, in parallel: q and k rotated while gathered from the qkv projection,
// scores = scale * q k^T, softmax in place (keeping the row log-sum-exp), out = p v. Backward
// recomputes p from q, k and the log-sum-exp instead of saving [seq, seq] per pair (the
// training step of C3 kept ~1 GiB of probabilities otherwise).

struct AttentionGeometry {
  int64_t batch, seq, heads, head_dim;
  int64_t width() const { return heads * head_dim; }  // of q, k, v and the attention output
  float scale() const { return 1.0f / std::sqrt(static_cast<float>(head_dim)); }
  // As the autograd function carries it in saved_data.
  std::vector<int64_t> to_vector() const { return {batch, seq, heads, head_dim}; }
  static AttentionGeometry from_vector(const std::vector<int64_t>& v) {
    return {v[0], v[1], v[2], v[3]};
  }
};

// Rotary tables [seq, head_dim], or nullptr for empty tables (no rotary embedding).
struct RopeRows {
  const float* cos = nullptr;
  const float* sin = nullptr;
};

RopeRows rope_rows(const torch::Tensor& cos, const torch::Tensor& sin) {
  if (cos.numel() == 0) return {};
  return {cos.data_ptr<float>(), sin.data_ptr<float>()};
}

// qkv [batch * seq, 3 * width] -> q_rot, k_rot, v [batch, heads, seq, head_dim], out [batch *
// seq, width], lse [batch, heads, seq].
void attention_forward(const float* qkv, RopeRows rope, const AttentionGeometry& g, float* q_rot,
                       float* k_rot, float* v, float* out, float* lse) {
  const int64_t ld = 3 * g.width();
  const int64_t pair = g.seq * g.head_dim;
  at::parallel_for(0, g.batch * g.heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scores(g.seq * g.seq);
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / g.heads, h = bh % g.heads;
      const float* rows = qkv + b * g.seq * ld;
      float* q = q_rot + bh * pair;
      float* k = k_rot + bh * pair;
      float* vv = v + bh * pair;
      rope_gather_rows(rows + h * g.head_dim, ld, rope.cos, rope.sin, g.seq, g.head_dim, q);
      rope_gather_rows(rows + (g.heads + h) * g.head_dim, ld, rope.cos, rope.sin, g.seq,
                       g.head_dim, k);
      rope_gather_rows(rows + (2 * g.heads + h) * g.head_dim, ld, nullptr, nullptr, g.seq,
                       g.head_dim, vv);
      sgemm('N', 'T', g.seq, g.seq, g.head_dim, g.scale(), q, g.head_dim, k, g.head_dim,
            scores.data(), g.seq);
      softmax_rows(scores.data(), g.seq, g.seq, lse + bh * g.seq);
      sgemm('N', 'N', g.seq, g.head_dim, g.seq, 1.0f, scores.data(), g.seq, vv, g.head_dim,
            out + b * g.seq * g.width() + h * g.head_dim, g.width());
    }
  });
}

// Gradient of attention_forward with respect to qkv, from the gradient of out.
void attention_backward(const float* q_rot, const float* k_rot, const float* v, const float* out,
                        const float* lse, const float* d_out, RopeRows rope,
                        const AttentionGeometry& g, float* d_qkv) {
  const int64_t ld = 3 * g.width();
  const int64_t pair = g.seq * g.head_dim;
  at::parallel_for(0, g.batch * g.heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> p(g.seq * g.seq), dp(g.seq * g.seq), d_rot(pair), delta(g.seq);
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / g.heads, h = bh % g.heads;
      const float* q = q_rot + bh * pair;
      const float* k = k_rot + bh * pair;
      const float* vv = v + bh * pair;
      const int64_t head_col = b * g.seq * g.width() + h * g.head_dim;
      const float* o = out + head_col;
      const float* d_o = d_out + head_col;
      float* d_rows = d_qkv + b * g.seq * ld;
      sgemm('N', 'T', g.seq, g.seq, g.head_dim, g.scale(), q, g.head_dim, k, g.head_dim,
            p.data(), g.seq);
      softmax_from_lse_rows(p.data(), g.seq, g.seq, lse + bh * g.seq);
      // d_v = p^T d_o, straight into the v columns of d_qkv.
      sgemm('T', 'N', g.seq, g.head_dim, g.seq, 1.0f, p.data(), g.seq, d_o, g.width(),
            d_rows + (2 * g.heads + h) * g.head_dim, ld);
      sgemm('N', 'T', g.seq, g.seq, g.head_dim, 1.0f, d_o, g.width(), vv, g.head_dim, dp.data(),
            g.seq);
      for (int64_t s = 0; s < g.seq; ++s) {
        float acc = 0.0f;
        for (int64_t j = 0; j < g.head_dim; ++j)
          acc += d_o[s * g.width() + j] * o[s * g.width() + j];
        delta[s] = acc;
      }
      softmax_backward_rows(p.data(), dp.data(), g.seq, g.seq, delta.data());  // dp = d_scores
      sgemm('N', 'N', g.seq, g.head_dim, g.seq, g.scale(), dp.data(), g.seq, k, g.head_dim,
            d_rot.data(), g.head_dim);
      rope_scatter_rows(d_rot.data(), rope.cos, rope.sin, g.seq, g.head_dim,
                        d_rows + h * g.head_dim, ld);
      sgemm('T', 'N', g.seq, g.head_dim, g.seq, g.scale(), dp.data(), g.seq, q, g.head_dim,
            d_rot.data(), g.head_dim);
      rope_scatter_rows(d_rot.data(), rope.cos, rope.sin, g.seq, g.head_dim,
                        d_rows + (g.heads + h) * g.head_dim, ld);
    }
  });
}

struct AttentionState {
  torch::Tensor q_rot, k_rot, v, out, lse;
};

AttentionState run_attention(const torch::Tensor& x, const torch::Tensor& w_qkv,
                             const torch::Tensor& cos, const torch::Tensor& sin,
                             const AttentionGeometry& g) {
  const auto qkv = gemm(x, w_qkv.t());  // [batch * seq, 3 * width]
  const auto opts = x.options();
  AttentionState st;
  st.q_rot = torch::empty({g.batch, g.heads, g.seq, g.head_dim}, opts);
  st.k_rot = torch::empty_like(st.q_rot);
  st.v = torch::empty_like(st.q_rot);
  st.out = torch::empty({g.batch * g.seq, g.width()}, opts);
  st.lse = torch::empty({g.batch, g.heads, g.seq}, opts);
  attention_forward(qkv.data_ptr<float>(), rope_rows(cos, sin), g, st.q_rot.data_ptr<float>(),
                    st.k_rot.data_ptr<float>(), st.v.data_ptr<float>(), st.out.data_ptr<float>(),
                    st.lse.data_ptr<float>());
  return st;
}

class CpuAttentionFn : public torch::autograd::Function<CpuAttentionFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& w_qkv, const torch::Tensor& w_o,
                               const torch::Tensor& cos, const torch::Tensor& sin,
                               std::vector<int64_t> geometry) {
    const AttentionGeometry g = AttentionGeometry::from_vector(geometry);
    AttentionState st = run_attention(x, w_qkv, cos, sin, g);
    ctx->save_for_backward({x, w_qkv, w_o, st.q_rot, st.k_rot, st.v, st.out, st.lse, cos, sin});
    ctx->saved_data["geometry"] = geometry;
    return gemm(st.out, w_o.t());
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto s = ctx->get_saved_variables();
    const auto& x = s[0];
    const auto& w_qkv = s[1];
    const auto& w_o = s[2];
    const auto& out = s[6];
    const AttentionGeometry g =
        AttentionGeometry::from_vector(ctx->saved_data["geometry"].toIntVector());
    const auto grad = grad_outputs[0].contiguous();
    const auto d_out = gemm(grad, w_o);  // [batch * seq, width]
    const auto d_w_o = gemm(grad.t(), out);
    auto d_qkv = torch::empty({x.size(0), 3 * g.width()}, x.options());
    attention_backward(s[3].data_ptr<float>(), s[4].data_ptr<float>(), s[5].data_ptr<float>(),
                       out.data_ptr<float>(), s[7].data_ptr<float>(), d_out.data_ptr<float>(),
                       rope_rows(s[8], s[9]), g, d_qkv.data_ptr<float>());
    const auto d_w_qkv = gemm(d_qkv.t(), x);
    const auto d_x = gemm(d_qkv, w_qkv);
    return {d_x, d_w_qkv, d_w_o, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor swiglu_mlp(const torch::Tensor& x, const torch::Tensor& w_gate_up,
                         const torch::Tensor& w_down, bool rows_major) {
  const bool graph = torch::GradMode::is_enabled() &&
                     (x.requires_grad() || w_gate_up.requires_grad() || w_down.requires_grad());
  if (graph) return SwiGLUMlpFn::apply(x, w_gate_up, w_down, rows_major);
  if (use_float_kernel(x)) {
    return rows_major ? chunked_rows_forward(x, w_gate_up, w_down, nullptr)
                      : chunked_cols_forward(x, w_gate_up, w_down, nullptr);
  }
  if (rows_major) {
    return gemm(swiglu_forward(gemm(x, w_gate_up.t()), 1), w_down.t());
  }
  return gemm(w_down, swiglu_forward(gemm(w_gate_up, x), 0));
}

torch::Tensor residual_rms_norm(const torch::Tensor& a, const torch::Tensor& b, double eps,
                                int64_t dim) {
  if (needs_graph(a, b)) return ResidualRmsNormFn::apply(a, b, eps, dim);
  auto y = normalise_sum(a, b, eps, dim).first;
  return y.to(a.scalar_type());
}

bool use_cpu_attention(const torch::Tensor& x) { return use_float_kernel(x); }

torch::Tensor cpu_attention(const torch::Tensor& x, const torch::Tensor& w_qkv,
                            const torch::Tensor& w_o, const torch::Tensor& cos,
                            const torch::Tensor& sin, int64_t batch, int64_t seq, int64_t heads,
                            int64_t head_dim) {
  TRM_CHECK(use_cpu_attention(x) && x.size(0) == batch * seq &&
                w_qkv.size(0) == 3 * heads * head_dim && w_o.size(1) == heads * head_dim &&
                (!cos.defined() || (cos.is_contiguous() && sin.is_contiguous() &&
                                    cos.size(0) == seq && cos.size(1) == head_dim)),
            "cpu_attention: unexpected shapes or layout", "report this as a bug");
  const auto wq = w_qkv.contiguous();
  const auto wo = w_o.contiguous();
  // Autograd functions take no undefined tensors: no rotary embedding is an empty table.
  const auto none = torch::empty({0}, x.options());
  const auto& c = cos.defined() ? cos : none;
  const auto& s = sin.defined() ? sin : none;
  const AttentionGeometry g{batch, seq, heads, head_dim};
  const bool graph = torch::GradMode::is_enabled() &&
                     (x.requires_grad() || wq.requires_grad() || wo.requires_grad());
  if (graph) return CpuAttentionFn::apply(x, wq, wo, c, s, g.to_vector());
  return gemm(run_attention(x, wq, c, s, g).out, wo.t());
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
