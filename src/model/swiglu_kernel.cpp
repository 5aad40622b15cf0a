// Fused SwiGLU loops (see swiglu_kernel.hpp). exp() is a branch-free Cody-Waite range reduction
// with a degree-6 polynomial for 2^f (relative error about 2e-7, below float32 resolution of the
// products here), written so that GCC vectorises the loops (that needs no-trapping-math: with
// trapping math the clamp and the float-to-int conversions count as control flow, and the loops
// stayed scalar); target_clones picks AVX-512, AVX2 or baseline code at load time.
#pragma GCC optimize("O3", "no-trapping-math")
#include "swiglu_kernel.hpp"

#include <cstring>

namespace trm {
namespace {

inline float fast_exp(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float t = x * 1.44269504088896341f;  // x / ln 2
  // floor(t) for t in [-126, 128) as a truncation of a positive number (vectorises everywhere).
  const float n = static_cast<float>(static_cast<int32_t>(t + 128.0f)) - 128.0f;
  const float f = t - n;  // [0, 1)
  float p = 1.535336188319500e-4f;
  p = p * f + 1.339887440266574e-3f;
  p = p * f + 9.618437357674640e-3f;
  p = p * f + 5.550332471162809e-2f;
  p = p * f + 2.402264791363012e-1f;
  p = p * f + 6.931472028550421e-1f;
  p = p * f + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;  // 2^n
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

}  // namespace

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
#pragma GCC ivdep  // the six rows never overlap; without it the alias checks fell back to scalar code
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
