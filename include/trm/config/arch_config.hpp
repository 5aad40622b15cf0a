// ArchConfig: the [arch] table of a trm-dist config, named as the reference names it
// (config/arch/trm.yaml). Values are validated once by the config loader; the model reads them
// through a const reference. DataShape holds what the dataset (not the user) decides.
#pragma once

#include <cstdint>
#include <string>

namespace trm {

enum class PosEncoding { kRope, kLearned, kNone };
enum class LossType { kStablemaxCrossEntropy, kSoftmaxCrossEntropy };
enum class ForwardDtype { kAuto, kFloat32, kBFloat16 };  // kAuto: bfloat16 on GPU, float32 on CPU
// Variants of the paper's ablations (DESIGN §5b, docs/ABLATIONS.md); the defaults are TRM.
// kHrm: HRM proper; kDirect: one call, no recursion; kTransformer: the reference's transformer
// baseline, one call of H_level on the carried answer per supervision step.
enum class Recursion { kTrm, kHrm, kDirect, kTransformer };
enum class GradientMode { kFull, kOneStep };   // kOneStep: only the last z and y update get gradient
enum class Networks { kShared, kSeparate };    // kSeparate: f_L (L_level) for z, f_H (H_level) for y
// kSingleZ: only z, read by the heads; kMultiZ: y and kMultiZCount latents z_L1..z_L6.
enum class Latents { kYZ, kSingleZ, kMultiZ };

// Number of latents of latents = multi_z (the reference's trm_hier6.py: z_L1..z_L6).
inline constexpr int64_t kMultiZCount = 6;

struct ArchConfig {
  int64_t hidden_size = 512;
  int64_t num_heads = 8;
  double expansion = 4.0;
  int64_t H_cycles = 3;  // T: supervision cycles per step (T-1 without gradient)
  int64_t L_cycles = 6;  // n: z updates per cycle
  int64_t H_layers = 0;  // depth of H_level (HRM, separate networks, transformer); 0: L_layers
  int64_t L_layers = 2;
  PosEncoding pos_encodings = PosEncoding::kRope;
  bool mlp_t = false;           // MLP over the sequence axis instead of self-attention
  int64_t puzzle_emb_ndim = -1; // -1: equal to hidden_size; 0: no puzzle embedding
  int64_t puzzle_emb_len = 16;  // 0: ceil(puzzle_emb_ndim / hidden_size)
  int64_t halt_max_steps = 16;
  double halt_exploration_prob = 0.1;
  bool no_ACT_continue = true;  // no Q-continue target and loss (see halts_on_q_continue)
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;
  ForwardDtype forward_dtype = ForwardDtype::kAuto;
  LossType loss_type = LossType::kStablemaxCrossEntropy;
  Recursion recursion = Recursion::kTrm;
  GradientMode gradient = GradientMode::kFull;
  Networks networks = Networks::kShared;
  Latents latents = Latents::kYZ;

  int64_t resolved_puzzle_emb_ndim() const {
    return puzzle_emb_ndim < 0 ? hidden_size : puzzle_emb_ndim;
  }
  // HRM and the separate-networks ablation own a second network H_level for the y updates;
  // the transformer baseline's only network is H_level.
  bool has_H_level() const {
    return recursion == Recursion::kHrm || recursion == Recursion::kTransformer ||
           (recursion == Recursion::kTrm && networks == Networks::kSeparate);
  }
  // Every variant but the transformer baseline has L_level (f_L, the z updates).
  bool has_L_level() const { return recursion != Recursion::kTransformer; }
  // Training halts on q_halt > q_continue (Q-learning halting) rather than q_halt > 0: with
  // no_ACT_continue = false, and always for the transformer baseline (the reference's
  // Model_ACTV2 compares the two logits whether or not q_continue is trained).
  bool halts_on_q_continue() const {
    return !no_ACT_continue || recursion == Recursion::kTransformer;
  }
  // H_level depth: H_layers, or L_layers when H_layers is 0 (same depth as f_L).
  int64_t resolved_H_layers() const { return H_layers > 0 ? H_layers : L_layers; }
};

// What the dataset decides: sequence length, vocabulary and the number of puzzle identifiers
// (including the blank identifier 0).
struct DataShape {
  int64_t seq_len = 0;
  int64_t vocab_size = 0;
  int64_t num_puzzle_identifiers = 1;
};

}  // namespace trm
