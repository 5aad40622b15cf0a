// train_step_flops (see trm/model/step_flops.hpp): walks the call schedule of
// run_latent_recursion and sums the matrix products of every block of every call.
#include "trm/model/step_flops.hpp"

#include <vector>

#include "trm/model/latent_recursion.hpp"
#include "trm/model/layers.hpp"
#include "trm/model/trm_inner.hpp"

namespace trm {
namespace {

// Forward FLOPs of one TrmBlock on `batch` rows of `positions` positions (puzzle rows included).
double block_flops(const ArchConfig& arch, int64_t batch, int64_t positions) {
  const double h = static_cast<double>(arch.hidden_size);
  const double rows = static_cast<double>(batch) * positions;  // [batch * positions, hidden]
  double flops = 0;
  if (arch.mlp_t) {
    // SwiGLU over positions on [hidden * batch, positions]: gate_up then down.
    const double inter_t = static_cast<double>(swiglu_inner_width(positions, arch.expansion));
    flops += 2.0 * (h * batch) * (3.0 * inter_t * positions);
  } else {
    flops += 2.0 * rows * (4.0 * h * h);          // qkv [3h, h] and o [h, h] projections
    flops += 2.0 * 2.0 * rows * positions * h;    // q k^T and softmax(.) v over all heads
  }
  const double inter = static_cast<double>(swiglu_inner_width(arch.hidden_size, arch.expansion));
  flops += 2.0 * rows * (3.0 * inter * h);  // gate_up [2 inter, h] and down [h, inter]
  return flops;
}

// Layers of each network call of one supervision step, in schedule order.
std::vector<int64_t> call_layers(const ArchConfig& arch) {
  const int64_t f_z = arch.has_L_level() ? arch.L_layers : arch.resolved_H_layers();
  const int64_t f_y = arch.has_H_level() ? arch.resolved_H_layers() : arch.L_layers;
  if (arch.recursion == Recursion::kDirect) return {f_z};
  if (arch.recursion == Recursion::kTransformer) return {f_y};
  std::vector<int64_t> layers;
  for (int64_t t = 0; t < arch.H_cycles; ++t) {
    for (int64_t i = 0; i < arch.L_cycles; ++i) layers.push_back(f_z);
    layers.push_back(arch.latents == Latents::kSingleZ ? f_z : f_y);
  }
  return layers;
}

}  // namespace

StepFlops train_step_flops(const ArchConfig& arch, const DataShape& shape, int64_t batch) {
  const int64_t positions = shape.seq_len + resolved_puzzle_emb_len(arch);
  const double block = block_flops(arch, batch, positions);
  const double h = static_cast<double>(arch.hidden_size);
  // lm_head on the token positions, q_head on the first position.
  const double heads =
      2.0 * batch * h * (static_cast<double>(shape.seq_len) * shape.vocab_size + 2.0);

  const std::vector<int64_t> layers = call_layers(arch);
  const size_t first_grad = layers.size() - static_cast<size_t>(recursion_grad_calls(arch));
  double recursion = 0, with_grad = 0;
  for (size_t c = 0; c < layers.size(); ++c) {
    recursion += block * layers[c];
    if (c >= first_grad) with_grad += block * layers[c];
  }
  StepFlops f;
  f.forward = recursion + heads;
  // The bootstrapped Q-continue target: one more forward_no_grad (tiny_recursive_model.cpp).
  if (!arch.no_ACT_continue && arch.halt_max_steps > 1) f.forward += recursion + heads;
  f.backward = 2.0 * (with_grad + heads);
  return f;
}

}  // namespace trm
