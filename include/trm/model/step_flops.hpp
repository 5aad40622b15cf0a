// Model FLOPs of one training step (one ACT supervision step with backward), for benchmarks that
// report achieved TFLOP/s and the share of a GPU's peak. Counts the matrix products only (2 FLOPs
// per multiply-add: projections, attention scores and values, token-mixing MLPs, LM and Q heads),
// as model-FLOP-utilisation figures do; norms, rotary tables and the optimisers are left out.
// Backward costs twice the forward of the calls that carry gradient (recursion_grad_calls); the
// no-grad calls and the Q-continue target's extra recursion (no_ACT_continue = false) count once.
#pragma once

#include <cstdint>

#include "trm/config/arch_config.hpp"

namespace trm {

struct StepFlops {
  double forward = 0;   // every forward matrix product of the step, no-grad calls included
  double backward = 0;  // input and weight gradients of the calls and heads with gradient
  double total() const { return forward + backward; }
};

// `batch` rows of `shape` through the schedule of `arch` (trm/model/latent_recursion.hpp).
StepFlops train_step_flops(const ArchConfig& arch, const DataShape& shape, int64_t batch);

}  // namespace trm
