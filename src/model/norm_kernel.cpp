// Fused residual RMSNorm loops (see norm_kernel.hpp); target_clones picks AVX-512, AVX2 or
// baseline code at load time.
// fp-contract=off: the AVX-512 clone would fuse multiply-adds that the others cannot, and the
// same input would round differently on another CPU; without it every clone gives the same bits.
#pragma GCC optimize("O3", "no-trapping-math", "fp-contract=off")
#include "norm_kernel.hpp"

#include <cmath>
#include <vector>

namespace trm {
namespace {

// Dot product of dense rows, in 16 lanes (a running sum is a reduction GCC keeps scalar).
inline float lane_dot(const float* x, const float* y, int64_t len) {
  float lanes[16] = {};
  int64_t j0 = 0;
  for (; j0 + 16 <= len; j0 += 16)
    for (int k = 0; k < 16; ++k) lanes[k] += x[j0 + k] * y[j0 + k];
  float total = 0.0f;
  for (int k = 0; k < 16; ++k) total += lanes[k];
  for (int64_t j = j0; j < len; ++j) total += x[j] * y[j];
  return total;
}

}  // namespace

#define TRM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

TRM_CLONES void rms_forward(NormOperand a, NormOperand b, int64_t begin, int64_t end, int64_t n,
                            int64_t inner, float eps, float* y, float* r) {
  const float inv_n = 1.0f / static_cast<float>(n);
  for (int64_t o = begin; o < end; ++o) {
    float* __restrict yo = y + o * n * inner;
    float* __restrict ro = r + o * inner;
    if (inner == 1) {
      const float* __restrict ao = a.p + o * a.s0;
      const float* __restrict bo = b.p + o * b.s0;
      // a and b rows are contiguous when inner == 1 only if s1 == 1; the caller guarantees it.
#pragma GCC ivdep
      for (int64_t i = 0; i < n; ++i) yo[i] = ao[i] + bo[i];
      const float rr = 1.0f / std::sqrt(lane_dot(yo, yo, n) * inv_n + eps);
#pragma GCC ivdep
      for (int64_t i = 0; i < n; ++i) yo[i] *= rr;
      ro[0] = rr;
      continue;
    }
    for (int64_t k = 0; k < inner; ++k) ro[k] = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
      const float* __restrict ai = a.p + o * a.s0 + i * a.s1;
      const float* __restrict bi = b.p + o * b.s0 + i * b.s1;
      float* __restrict yi = yo + i * inner;
#pragma GCC ivdep
      for (int64_t k = 0; k < inner; ++k) {
        const float s = ai[k] + bi[k];
        yi[k] = s;
        ro[k] += s * s;
      }
    }
#pragma GCC ivdep
    for (int64_t k = 0; k < inner; ++k) ro[k] = 1.0f / std::sqrt(ro[k] * inv_n + eps);
    for (int64_t i = 0; i < n; ++i) {
      float* __restrict yi = yo + i * inner;
#pragma GCC ivdep
      for (int64_t k = 0; k < inner; ++k) yi[k] *= ro[k];
    }
  }
}

TRM_CLONES void rms_backward(const float* g, const float* y, const float* r, int64_t begin,
                             int64_t end, int64_t n, int64_t inner, float* dx) {
  const float inv_n = 1.0f / static_cast<float>(n);
  std::vector<float> mean_gy(inner);
  for (int64_t o = begin; o < end; ++o) {
    const float* __restrict go = g + o * n * inner;
    const float* __restrict yo = y + o * n * inner;
    const float* __restrict ro = r + o * inner;
    float* __restrict dxo = dx + o * n * inner;
    if (inner == 1) {
      const float m = lane_dot(go, yo, n) * inv_n;
      const float rr = ro[0];
#pragma GCC ivdep
      for (int64_t i = 0; i < n; ++i) dxo[i] = (go[i] - yo[i] * m) * rr;
      continue;
    }
    float* __restrict m = mean_gy.data();
    for (int64_t k = 0; k < inner; ++k) m[k] = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
#pragma GCC ivdep
      for (int64_t k = 0; k < inner; ++k) m[k] += go[i * inner + k] * yo[i * inner + k];
    }
#pragma GCC ivdep
    for (int64_t k = 0; k < inner; ++k) m[k] *= inv_n;
    for (int64_t i = 0; i < n; ++i) {
#pragma GCC ivdep
      for (int64_t k = 0; k < inner; ++k)
        dxo[i * inner + k] = (go[i * inner + k] - yo[i * inner + k] * m[k]) * ro[k];
    }
  }
}

#undef TRM_CLONES

}  // namespace trm
