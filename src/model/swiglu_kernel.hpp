// Raw float32 loops of the SwiGLU activation, forward and backward fused into single passes
// (the elementwise part of the MLPs is about a third of a training step on CPU otherwise).
// Rows: row r of the gate is g + r * stride, of the up half u + r * stride, both `len` long;
// outputs are dense [rows, len] (act, d_gate/d_up rows at the same strides as g/u). Private to
// trm_model; the caller splits rows across threads.
#pragma once

#include <cstdint>

namespace trm {

// act = silu(g) * u
void swiglu_forward_rows(const float* g, const float* u, int64_t stride, int64_t rows,
                         int64_t len, float* act);

// From d_act (dense [rows, len]): act = silu(g) * u (recomputed), d_u = d_act * silu(g),
// d_g = d_act * u * silu'(g). d_g / d_u rows at the same stride as g / u.
void swiglu_backward_rows(const float* g, const float* u, int64_t stride, const float* d_act,
                          int64_t rows, int64_t len, float* act, float* d_g, float* d_u);

}  // namespace trm
