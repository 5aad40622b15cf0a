// run_latent_recursion: the sequence of network calls of one supervision step for every recursion
// variant of DESIGN §5b, and which of those calls carry gradient. With x the input embedding:
//   trm, latents yz:  H_cycles times { L_cycles times z = f_z(z, y + x); then y = f_y(y, z) }
//   trm, single_z:    H_cycles times { L_cycles times z = f_z(z + x);    then z = f_z(z) }, y unused
//   trm, multi_z:     H_cycles times { for i < L_cycles: z_i = f_z(z_1 + ... + z_6, y + x);
//                                      then y = f_y(y, z_1 + ... + z_6) }   (trm_hier6.py)
//   hrm:              the trm yz sequence with f_y = H_level (HRM's loop makes the same calls)
//   direct:           y = f_z(x), one call, no recursion
//   transformer:      y = f_y(y, x), one call on the carried answer (transformers_baseline.py)
// f_z is L_level; f_y is H_level for hrm, transformer and networks = separate, L_level otherwise.
// With track_grad the last recursion_grad_calls() calls run with gradient and the earlier ones
// under no-grad: L_cycles + 1 for gradient = full (TRM), 2 for one_step and for HRM (the last z
// and the last y update: HRM's 1-step gradient), 1 for direct and transformer. Without
// track_grad nothing records a graph.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "trm/config/arch_config.hpp"
#include "trm/model/layers.hpp"
#include "trm/model/trm_block.hpp"
#include "trm/model/trm_inner.hpp"

namespace trm {

struct RecursionNetworks {
  ReasoningModule f_z;        // L_level (H_level for the transformer, which makes no z update)
  ReasoningModule f_y;        // H_level or L_level
  const RotaryTables* rope;   // nullptr without RoPE
};

// Network calls of one supervision step (the whole schedule above).
int64_t recursion_calls(const ArchConfig& arch);
// How many of the last calls carry gradient when track_grad is set.
int64_t recursion_grad_calls(const ArchConfig& arch);
// The tensor the heads read: z for latents = single_z, y otherwise.
const torch::Tensor& recursion_output(const ArchConfig& arch, const InnerCarry& carry);

// Runs the schedule from `carry` with input embedding x [batch, positions, hidden]. The returned
// carry is not detached (the caller detaches what it keeps). With latents = multi_z, carry.z
// holds the six latents stacked, [batch, kMultiZCount, positions, hidden].
InnerCarry run_latent_recursion(const ArchConfig& arch, RecursionNetworks& nets,
                                const InnerCarry& carry, const torch::Tensor& x, bool track_grad);

}  // namespace trm
