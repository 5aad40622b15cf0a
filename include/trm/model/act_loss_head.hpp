// ActLossHead: the loss and metrics of one supervision step (the reference's ACTLossHead,
// DESIGN §4). Losses are SUMS over the local batch (per-sample mean over valid tokens, summed);
// metrics are SUMS over the samples that halted this step and have at least one valid label.
// The trainer scales by 1/global_batch_size and reduces across ranks; nothing here divides by
// the local batch.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "trm/config/arch_config.hpp"
#include "trm/model/tiny_recursive_model.hpp"

namespace trm {

// Stablemax s(x) = x + 1 for x >= 0, 1 / (1 - x) for x < 0 (epsilon 1e-30 in the denominator as
// the reference); log(s(x) / sum s(x)) over the last dim. Computed in x's dtype.
torch::Tensor log_stablemax(const torch::Tensor& x);
// Per-token loss [batch, seq] (float64): -log_stablemax(logits in float64)[label], 0 where
// `valid` [batch, seq] bool is false.
torch::Tensor stablemax_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                      const torch::Tensor& valid);
// Per-token loss [batch, seq] (float32): softmax cross-entropy, 0 where `valid` is false.
torch::Tensor softmax_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                    const torch::Tensor& valid);

// Metric sums, each a 0-dim tensor on the model's device, float64 (exact for counts < 2^53).
struct ActMetrics {
  torch::Tensor count;            // halted samples with >= 1 valid label
  torch::Tensor accuracy;         // sum of per-sample token accuracy
  torch::Tensor exact_accuracy;   // samples whose every valid token is right
  torch::Tensor q_halt_accuracy;  // samples where (q_halt >= 0) == exact
  torch::Tensor steps;            // sum of steps taken
  torch::Tensor lm_loss;          // lm loss over the whole local batch (not only halted)
  torch::Tensor q_halt_loss;      // idem
  torch::Tensor q_continue_loss;  // idem; 0 when no target_q_continue

  // Names in the order of stacked(): count, accuracy, exact_accuracy, q_halt_accuracy, steps,
  // lm_loss, q_halt_loss, q_continue_loss.
  static const std::vector<std::string>& names();
  // All metrics in one float64 [8] tensor (one all-reduce for the trainer).
  torch::Tensor stacked() const;
};

struct LossOutputs {
  // 0-dim, with graph: lm_loss + 0.5 * (q_halt_loss + q_continue_loss); float64 with the
  // stablemax loss (type promotion as in the reference), float32 with softmax.
  torch::Tensor loss;
  ActMetrics metrics;
  torch::Tensor preds;       // [batch, seq_len] int64 argmax of the logits
  torch::Tensor all_halted;  // 0-dim bool: every sample of the new carry halted
};

class ActLossHead {
 public:
  // ignore_label_id: the dataset's ignored label (0 = PAD); kIgnoreLabelId is ignored as well.
  explicit ActLossHead(LossType loss_type, int64_t ignore_label_id = 0);

  // Labels come from new_carry.current.labels (the rows each sample actually worked on).
  LossOutputs operator()(const ActCarry& new_carry, const ModelOutputs& outputs) const;

 private:
  LossType loss_type_;
  int64_t ignore_label_id_;
};

}  // namespace trm
