// Ema: shadow copies updated in place after each optimizer step.
#include "trm/train/ema.hpp"

namespace trm {

Ema::Ema(std::vector<torch::Tensor> params, double rate) : params_(std::move(params)), rate_(rate) {
  for (const auto& p : params_) shadow_.push_back(p.detach().clone());
}

void Ema::update() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) shadow_[i].lerp_(params_[i].detach(), 1.0 - rate_);
}

void Ema::swap() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor tmp = params_[i].detach().clone();
    params_[i].detach().copy_(shadow_[i]);
    shadow_[i].copy_(tmp);
  }
}

}  // namespace trm
