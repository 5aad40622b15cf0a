// AdamAtan2: the optimizer of the dense weights, exactly the adam-atan2 package (0.0.3) the
// reference uses (DESIGN §5). Per element at step t (t counts from 1):
//   p *= 1 - lr*wd;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
//   p -= lr/(1-b1^t) * atan2(m, sqrt(v)/sqrt(1-b2^t)).
// No epsilon (atan2 is bounded), hence invariant to the gradient's scale. Parameters without a
// gradient are skipped (their moments are untouched), as torch optimizers do.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace trm {

struct AdamAtan2Options {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double weight_decay = 0.1;
};

class AdamAtan2 {
 public:
  AdamAtan2(std::vector<torch::Tensor> params, AdamAtan2Options options);

  // One update of every parameter with a gradient, at learning rate `lr` (set by the schedule).
  void step(double lr);
  void zero_grad();

  // State for checkpoints: moments in parameter order and the step count t.
  int64_t step_count() const { return step_count_; }
  void set_step_count(int64_t t) { step_count_ = t; }
  std::vector<torch::Tensor>& exp_avg() { return exp_avg_; }
  std::vector<torch::Tensor>& exp_avg_sq() { return exp_avg_sq_; }
  const std::vector<torch::Tensor>& params() const { return params_; }
  const AdamAtan2Options& options() const { return options_; }

 private:
  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> exp_avg_;     // m, like the parameter
  std::vector<torch::Tensor> exp_avg_sq_;  // v, like the parameter
  AdamAtan2Options options_;
  int64_t step_count_ = 0;
};

}  // namespace trm
