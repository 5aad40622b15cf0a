// Ema: exponential moving average of the dense trained parameters (the reference's EMAHelper;
// the puzzle-embedding table is a buffer and is not averaged). shadow = rate*shadow + (1-rate)*p
// after every optimizer step; evaluation and checkpoints swap the shadow in when ema = true.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace trm {

class Ema {
 public:
  Ema(std::vector<torch::Tensor> params, double rate);  // shadow starts as a copy

  void update();
  // Exchanges parameter values and shadow values (call twice to undo): lets evaluation run on
  // the EMA weights without allocating a second model.
  void swap();

  std::vector<torch::Tensor>& shadow() { return shadow_; }
  double rate() const { return rate_; }

 private:
  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> shadow_;
  double rate_;
};

}  // namespace trm
