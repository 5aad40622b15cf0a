// Raw float32 loops of the fused residual RMSNorm (fused_ops.cpp), on tensors viewed as
// [outer, n, inner] and normalised over n: the last axis is (outer = rows, n = len, inner = 1),
// axis 1 of [batch, positions, hidden] is (batch, positions, hidden). Private to trm_model; the
// caller splits the outer index across threads.
#pragma once

#include <cstdint>

namespace trm {

// Element (o, i, k) of an operand lives at p + o * s0 + i * s1 + k.
struct NormOperand {
  const float* p;
  int64_t s0, s1;
};

// For o in [begin, end): s = a + b, r = 1 / sqrt(mean_i(s^2) + eps), y = s * r. y is dense
// [outer, n, inner], r dense [outer, inner].
void rms_forward(NormOperand a, NormOperand b, int64_t begin, int64_t end, int64_t n,
                 int64_t inner, float eps, float* y, float* r);

// For o in [begin, end): dx = r * (g - y * mean_i(g * y)); g, y, dx dense [outer, n, inner].
void rms_backward(const float* g, const float* y, const float* r, int64_t begin, int64_t end,
                  int64_t n, int64_t inner, float* dx);

}  // namespace trm
