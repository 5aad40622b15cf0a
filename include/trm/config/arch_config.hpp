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
enum class Recursion { kTrm, kHrm, kDirect };  // kHrm: HRM proper; kDirect: one call, no recursion
enum class GradientMode { kFull, kOneStep };   // kOneStep: only the last z and y update get gradient
enum class Networks { kShared, kSeparate };    // kSeparate: f_L (L_level) for z, f_H (H_level) for y
enum class Latents { kYZ, kSingleZ };          // kSingleZ: only z, read by the heads

struct ArchConfig {
  int64_t hidden_size = 512;
  int64_t num_heads = 8;
  double expansion = 4.0;
  int64_t H_cycles = 3;  // T: supervision cycles per step (T-1 without gradient)
  int64_t L_cycles = 6;  // n: z updates per cycle
  int64_t H_layers = 0;  // unused by TRM (one network); HRM's high-level depth
  int64_t L_layers = 2;
  PosEncoding pos_encodings = PosEncoding::kRope;
  bool mlp_t = false;           // MLP over the sequence axis instead of self-attention
  int64_t puzzle_emb_ndim = -1; // -1: equal to hidden_size; 0: no puzzle embedding
  int64_t puzzle_emb_len = 16;  // 0: ceil(puzzle_emb_ndim / hidden_size)
  int64_t halt_max_steps = 16;
  double halt_exploration_prob = 0.1;
  bool no_ACT_continue = true;
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
  // HRM and the separate-networks ablation own a second network H_level for the y updates.
  bool has_H_level() const {
    return recursion == Recursion::kHrm ||
           (recursion == Recursion::kTrm && networks == Networks::kSeparate);
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
