// Raw float32 loops of the fused CPU attention (fused_ops.cpp): rotary embedding applied while
// gathering one head's rows, softmax rows with their log-sum-exp, and the softmax backward.
// Private to trm_model; the caller splits (batch, head) pairs across threads.
#pragma once

#include <cstdint>

namespace trm {

// dst [seq, head_dim] (dense) = rope(src rows), src row s at src + s * src_stride. With cos/sin
// (dense [seq, head_dim]) each row becomes x * cos + rotate_half(x) * sin, rotate_half(x) =
// (-x2, x1) for the halves x1, x2; with cos == nullptr the rows are copied.
void rope_gather_rows(const float* src, int64_t src_stride, const float* cos, const float* sin,
                      int64_t seq, int64_t head_dim, float* dst);

// The adjoint of rope_gather_rows: dst row s (at dst + s * dst_stride) = g * cos +
// rotate_half^T(g * sin), rotate_half^T(y) = (y2, -y1); g dense [seq, head_dim].
void rope_scatter_rows(const float* g, const float* cos, const float* sin, int64_t seq,
                       int64_t head_dim, float* dst, int64_t dst_stride);

// In place over dense [rows, len]: each row becomes softmax(row); lse[r] = log(sum(exp(row))).
void softmax_rows(float* x, int64_t rows, int64_t len, float* lse);

// Recomputes p = exp(s - lse[r]) in place over the dense score rows s [rows, len].
void softmax_from_lse_rows(float* s, int64_t rows, int64_t len, const float* lse);

// In place over dense dp [rows, len]: dp = p * (dp - delta[r]) (the softmax backward, with
// delta[r] = sum_j p[r, j] * dp[r, j] = dot(dO_r, O_r)).
void softmax_backward_rows(const float* p, float* dp, int64_t rows, int64_t len,
                           const float* delta);

}  // namespace trm
