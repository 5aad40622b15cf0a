// Branch-free float32 exp for the fused CPU loops (SwiGLU, attention softmax), written so that
// GCC vectorises loops around it. Include only from files compiled with
// #pragma GCC optimize("O3", "no-trapping-math"): with trapping math the clamp and the
// float-to-int conversions count as control flow, and the loops stay scalar.
#pragma once

#include <cstdint>
#include <cstring>

namespace trm {

// Cody-Waite range reduction and a degree-6 polynomial for 2^f: relative error about 2e-7,
// below float32 resolution of the products it feeds. Inputs below -87 give about 1.6e-38
// (not 0), above 88 about 1.7e38.
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

}  // namespace trm
