// Fused operations of the TRM block, private to trm_model. Each has an autograd function that
// saves the minimum for backward (the training step keeps L_layers * (L_cycles + 1) block
// activations alive) and a no-grad path that works in place.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace trm {

// rms_norm(a + b) over `dim`, in float32, returned in a's dtype. Backward saves the output and
// the inverse RMS only.
torch::Tensor residual_rms_norm(const torch::Tensor& a, const torch::Tensor& b, double eps,
                                int64_t dim);

// The whole SwiGLU MLP on 2-D activations, with an autograd function that saves only x and the
// gate/up projection and recomputes the activation in backward (saves one [rows, inter] tensor
// per call and several elementwise passes). Two layouts:
//   rows_major (x [rows, in]):  down(silu(g) * u) with (g | u) = x W_gu^T  -> [rows, out]
//   !rows_major (x [in, cols]): W_d (silu(g) * u) with (g ; u) = W_gu x    -> [out, cols]
// The second is the token-mixing MLP (mlp_t) applied to activations laid out [positions, B*H].
torch::Tensor swiglu_mlp(const torch::Tensor& x, const torch::Tensor& w_gate_up,
                         const torch::Tensor& w_down, bool rows_major);

// The whole attention block on CPU float32 (use_cpu_attention): x [batch * seq, hidden] ->
// o_proj(softmax(q k^T / sqrt(head_dim)) v) with (q | k | v) = x W_qkv^T, q and k rotated by the
// rotary tables cos/sin ([seq, head_dim], or undefined for none). Fused per (batch, head) pair
// with an autograd function that saves q, k, v, the output and the row log-sum-exp, and
// recomputes the probabilities in backward (no [seq, seq] tensor is kept).
bool use_cpu_attention(const torch::Tensor& x);
torch::Tensor cpu_attention(const torch::Tensor& x, const torch::Tensor& w_qkv,
                            const torch::Tensor& w_o, const torch::Tensor& cos,
                            const torch::Tensor& sin, int64_t batch, int64_t seq, int64_t heads,
                            int64_t head_dim);

// softmax(q k^T / sqrt(head_dim)) v without mask; q, k, v [batch, heads, seq, head_dim].
// scaled_dot_product_attention on LibTorch >= 2.0, the plain formula on 1.13.
torch::Tensor bidirectional_attention(const torch::Tensor& q, const torch::Tensor& k,
                                      const torch::Tensor& v);

}  // namespace trm
