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

// silu(gate) * up where gate and up are the two halves of `gate_up` along `dim` (gate first).
// gate_up must be contiguous. Backward saves gate_up only.
torch::Tensor swiglu_activation(const torch::Tensor& gate_up, int64_t dim);

// softmax(q k^T / sqrt(head_dim)) v without mask; q, k, v [batch, heads, seq, head_dim].
// scaled_dot_product_attention on LibTorch >= 2.0, the plain formula on 1.13.
torch::Tensor bidirectional_attention(const torch::Tensor& q, const torch::Tensor& k,
                                      const torch::Tensor& v);

}  // namespace trm
