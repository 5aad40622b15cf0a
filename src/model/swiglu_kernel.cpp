// Fused SwiGLU loops (see swiglu_kernel.hpp), vectorised by GCC with fast_exp (fast_math.hpp);
// target_clones picks AVX-512, AVX2 or baseline code at load time.
// fp-contract=off: the AVX-512 clone would fuse multiply-adds that the others cannot, and the
// same input would round differently on another CPU; without it every clone gives the same bits.
#pragma GCC optimize("O3", "no-trapping-math", "fp-contract=off")
#include "swiglu_kernel.hpp"

#include "fast_math.hpp"

namespace trm {

__attribute__((target_clones("avx512f", "avx2", "default"))) void swiglu_forward_rows(
    const float* g, const float* u, int64_t stride, int64_t rows, int64_t len, float* act) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict gr = g + r * stride;
    const float* __restrict ur = u + r * stride;
    float* __restrict ar = act + r * len;
#pragma GCC ivdep
    for (int64_t j = 0; j < len; ++j) {
      const float x = gr[j];
      ar[j] = x / (1.0f + fast_exp(-x)) * ur[j];
    }
  }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void swiglu_backward_rows(
    const float* g, const float* u, int64_t stride, const float* d_act, int64_t rows,
    int64_t len, float* act, float* d_g, float* d_u) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict gr = g + r * stride;
    const float* __restrict ur = u + r * stride;
    const float* __restrict dr = d_act + r * len;
    float* __restrict ar = act + r * len;
    float* __restrict dgr = d_g + r * stride;
    float* __restrict dur = d_u + r * stride;
// The six rows never overlap; without ivdep the runtime alias checks fell back to scalar code.
#pragma GCC ivdep
    for (int64_t j = 0; j < len; ++j) {
      const float x = gr[j];
      const float s = 1.0f / (1.0f + fast_exp(-x));
      const float silu = x * s;
      ar[j] = silu * ur[j];
      dur[j] = dr[j] * silu;
      dgr[j] = dr[j] * ur[j] * (s + silu * (1.0f - s));  // silu' = s * (1 + x * (1 - s))
    }
  }
}

}  // namespace trm
