// AdamAtan2::step with in-place LibTorch ops, in the order of the package's kernel.
#include "trm/train/adam_atan2.hpp"

#include <cmath>

namespace trm {

AdamAtan2::AdamAtan2(std::vector<torch::Tensor> params, AdamAtan2Options options)
    : params_(std::move(params)), options_(options) {
  for (const auto& p : params_) {
    exp_avg_.push_back(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
    exp_avg_sq_.push_back(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
  }
}

void AdamAtan2::step(double lr) {
  torch::NoGradGuard no_grad;
  step_count_ += 1;
  const double t = static_cast<double>(step_count_);
  const double b1 = options_.beta1, b2 = options_.beta2;
  const double step_size = lr / (1.0 - std::pow(b1, t));
  const double bias_correction2_sqrt = std::sqrt(1.0 - std::pow(b2, t));
  const double decay = 1.0 - lr * options_.weight_decay;
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor p = params_[i].detach();
    const torch::Tensor& g = params_[i].grad();
    if (!g.defined()) continue;
    p.mul_(decay);
    exp_avg_[i].lerp_(g, 1.0 - b1);
    exp_avg_sq_[i].mul_(b2).addcmul_(g, g, 1.0 - b2);
    const torch::Tensor denom = exp_avg_sq_[i].sqrt().div_(bias_correction2_sqrt);
    p.add_(torch::atan2(exp_avg_[i], denom), -step_size);
  }
}

void AdamAtan2::zero_grad() {
  for (auto& p : params_)
    if (p.grad().defined()) p.mutable_grad().zero_();
}

}  // namespace trm
