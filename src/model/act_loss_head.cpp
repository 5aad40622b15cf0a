// ActLossHead and the cross-entropy variants (see trm/model/act_loss_head.hpp).
#include "trm/model/act_loss_head.hpp"

namespace trm {

torch::Tensor log_stablemax(const torch::Tensor& x) {
  // s(x) = x + 1 (x >= 0), 1 / (1 - x + 1e-30) (x < 0): positive, linear growth, no exp.
  const auto s = torch::where(x < 0, 1.0 / (1.0 - x + 1e-30), x + 1.0);
  return torch::log(s / s.sum(-1, /*keepdim=*/true));
}

torch::Tensor stablemax_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                      const torch::Tensor& valid) {
  const auto logprobs = log_stablemax(logits.to(torch::kFloat64));  // [batch, seq, vocab]
  const auto index = torch::where(valid, labels, torch::zeros_like(labels)).to(torch::kLong);
  const auto picked = logprobs.gather(-1, index.unsqueeze(-1)).squeeze(-1);
  return -torch::where(valid, picked, torch::zeros_like(picked));
}

torch::Tensor softmax_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                    const torch::Tensor& valid) {
  const auto vocab = logits.size(-1);
  const auto index = torch::where(valid, labels, torch::full_like(labels, kIgnoreLabelId));
  return torch::nn::functional::cross_entropy(
             logits.to(torch::kFloat32).reshape({-1, vocab}), index.to(torch::kLong).reshape({-1}),
             torch::nn::functional::CrossEntropyFuncOptions()
                 .ignore_index(kIgnoreLabelId)
                 .reduction(torch::kNone))
      .view(labels.sizes());
}

const std::vector<std::string>& ActMetrics::names() {
  static const std::vector<std::string> kNames{"count",   "accuracy", "exact_accuracy",
                                               "q_halt_accuracy", "steps", "lm_loss",
                                               "q_halt_loss", "q_continue_loss"};
  return kNames;
}

torch::Tensor ActMetrics::stacked() const {
  return torch::stack({count, accuracy, exact_accuracy, q_halt_accuracy, steps, lm_loss,
                       q_halt_loss, q_continue_loss})
      .to(torch::kFloat64);
}

ActLossHead::ActLossHead(LossType loss_type, int64_t ignore_label_id)
    : loss_type_(loss_type), ignore_label_id_(ignore_label_id) {}

LossOutputs ActLossHead::operator()(const ActCarry& new_carry,
                                    const ModelOutputs& outputs) const {
  const auto& labels = new_carry.current.labels;  // [batch, seq]
  LossOutputs result;
  ActMetrics& m = result.metrics;
  const auto f64 = torch::kFloat64;

  torch::Tensor valid, loss_divisor, seq_is_correct;
  {
    torch::NoGradGuard no_grad;
    valid = (labels != ignore_label_id_) & (labels != kIgnoreLabelId);
    const auto loss_counts = valid.sum(-1);                         // [batch] int64
    loss_divisor = loss_counts.clamp_min(1).unsqueeze(-1);          // avoids 0/0
    result.preds = outputs.logits.argmax(-1);                       // [batch, seq] int64
    const auto is_correct = valid & (result.preds == labels);
    seq_is_correct = is_correct.sum(-1) == loss_counts;
    const auto counted = new_carry.halted & (loss_counts > 0);
    const auto zero = torch::zeros({}, labels.options().dtype(f64));
    m.count = counted.sum().to(f64);
    m.accuracy = torch::where(counted, (is_correct.to(f64) / loss_divisor).sum(-1), zero).sum();
    m.exact_accuracy = (counted & seq_is_correct).sum().to(f64);
    m.q_halt_accuracy =
        (counted & ((outputs.q_halt_logits >= 0) == seq_is_correct)).sum().to(f64);
    m.steps = torch::where(counted, new_carry.steps.to(f64), zero).sum();
    result.all_halted = new_carry.halted.all();
  }

  const auto token_loss = loss_type_ == LossType::kStablemaxCrossEntropy
                              ? stablemax_cross_entropy(outputs.logits, labels, valid)
                              : softmax_cross_entropy(outputs.logits, labels, valid);
  const auto lm_loss = (token_loss / loss_divisor).sum();
  const auto q_halt_loss = torch::binary_cross_entropy_with_logits(
      outputs.q_halt_logits, seq_is_correct.to(outputs.q_halt_logits.scalar_type()), {}, {},
      at::Reduction::Sum);
  m.q_continue_loss = torch::zeros({}, labels.options().dtype(f64));
  torch::Tensor total;
  if (outputs.target_q_continue.defined()) {
    const auto q_continue_loss = torch::binary_cross_entropy_with_logits(
        outputs.q_continue_logits, outputs.target_q_continue, {}, {}, at::Reduction::Sum);
    total = lm_loss + 0.5 * (q_halt_loss + q_continue_loss);
    m.q_continue_loss = q_continue_loss.detach().to(f64);
  } else {
    total = lm_loss + 0.5 * q_halt_loss;
  }
  m.lm_loss = lm_loss.detach().to(f64);
  m.q_halt_loss = q_halt_loss.detach().to(f64);
  result.loss = total;
  return result;
}

}  // namespace trm
