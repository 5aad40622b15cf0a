// Fused attention loops (see attention_kernel.hpp), vectorised by GCC with fast_exp
// (fast_math.hpp); target_clones picks AVX-512, AVX2 or baseline code at load time.
// fp-contract=off: the AVX-512 clone would fuse multiply-adds that the others cannot, and the
// same input would round differently on another CPU; without it every clone gives the same bits.
#pragma GCC optimize("O3", "no-trapping-math", "fp-contract=off")
#include "attention_kernel.hpp"

#include <cmath>

#include "fast_math.hpp"

namespace trm {

#define TRM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

TRM_CLONES void rope_gather_rows(const float* src, int64_t src_stride, const float* cos,
                                 const float* sin, int64_t seq, int64_t head_dim, float* dst) {
  const int64_t half = head_dim / 2;
  for (int64_t s = 0; s < seq; ++s) {
    const float* __restrict x = src + s * src_stride;
    float* __restrict y = dst + s * head_dim;
    if (cos == nullptr) {
      for (int64_t j = 0; j < head_dim; ++j) y[j] = x[j];
      continue;
    }
    const float* __restrict c = cos + s * head_dim;
    const float* __restrict sn = sin + s * head_dim;
#pragma GCC ivdep
    for (int64_t j = 0; j < half; ++j) y[j] = x[j] * c[j] - x[j + half] * sn[j];
#pragma GCC ivdep
    for (int64_t j = half; j < head_dim; ++j) y[j] = x[j] * c[j] + x[j - half] * sn[j];
  }
}

TRM_CLONES void rope_scatter_rows(const float* g, const float* cos, const float* sin,
                                  int64_t seq, int64_t head_dim, float* dst, int64_t dst_stride) {
  const int64_t half = head_dim / 2;
  for (int64_t s = 0; s < seq; ++s) {
    const float* __restrict gr = g + s * head_dim;
    float* __restrict y = dst + s * dst_stride;
    if (cos == nullptr) {
      for (int64_t j = 0; j < head_dim; ++j) y[j] = gr[j];
      continue;
    }
    const float* __restrict c = cos + s * head_dim;
    const float* __restrict sn = sin + s * head_dim;
    // y = g * c + rotate_half^T(g * sn): the first half gets +(g * sn)[j + half], the second
    // -(g * sn)[j - half].
#pragma GCC ivdep
    for (int64_t j = 0; j < half; ++j) y[j] = gr[j] * c[j] + gr[j + half] * sn[j + half];
#pragma GCC ivdep
    for (int64_t j = half; j < head_dim; ++j) y[j] = gr[j] * c[j] - gr[j - half] * sn[j - half];
  }
}

TRM_CLONES void softmax_rows(float* x, int64_t rows, int64_t len, float* lse) {
  for (int64_t r = 0; r < rows; ++r) {
    float* __restrict row = x + r * len;
    // Maximum over 16 lanes first (a plain running maximum is a reduction GCC keeps scalar).
    float lanes[16];
    for (int k = 0; k < 16; ++k) lanes[k] = row[0];
    int64_t j0 = 0;
    for (; j0 + 16 <= len; j0 += 16)
      for (int k = 0; k < 16; ++k) lanes[k] = row[j0 + k] > lanes[k] ? row[j0 + k] : lanes[k];
    float m = lanes[0];
    for (int k = 1; k < 16; ++k) m = lanes[k] > m ? lanes[k] : m;
    for (int64_t j = j0; j < len; ++j) m = row[j] > m ? row[j] : m;
    float sum = 0.0f;
    for (int64_t j = 0; j < len; ++j) {
      row[j] = fast_exp(row[j] - m);
      sum += row[j];
    }
    const float inv = 1.0f / sum;
    for (int64_t j = 0; j < len; ++j) row[j] *= inv;
    lse[r] = m + std::log(sum);
  }
}

TRM_CLONES void softmax_from_lse_rows(float* s, int64_t rows, int64_t len, const float* lse) {
  for (int64_t r = 0; r < rows; ++r) {
    float* __restrict row = s + r * len;
    const float l = lse[r];
    for (int64_t j = 0; j < len; ++j) row[j] = fast_exp(row[j] - l);
  }
}

TRM_CLONES void softmax_backward_rows(const float* p, float* dp, int64_t rows, int64_t len,
                                      const float* delta) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict pr = p + r * len;
    float* __restrict dr = dp + r * len;
    const float d = delta[r];
#pragma GCC ivdep
    for (int64_t j = 0; j < len; ++j) dr[j] = pr[j] * (dr[j] - d);
  }
}

#undef TRM_CLONES

}  // namespace trm
