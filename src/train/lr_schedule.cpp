// cosine_schedule_with_warmup and total_train_steps, as pretrain.py computes them.
#include "trm/train/lr_schedule.hpp"

#include <algorithm>
#include <cmath>

namespace trm {

double cosine_schedule_with_warmup(int64_t step, double base_lr, int64_t num_warmup_steps,
                                   int64_t num_training_steps, double min_ratio) {
  if (step < num_warmup_steps)
    return base_lr * static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, num_warmup_steps));
  const double progress = static_cast<double>(step - num_warmup_steps) /
                          static_cast<double>(std::max<int64_t>(1, num_training_steps - num_warmup_steps));
  constexpr double kPi = 3.14159265358979323846;
  return base_lr * (min_ratio + std::max(0.0, (1.0 - min_ratio) * 0.5 * (1.0 + std::cos(kPi * progress))));
}

int64_t total_train_steps(int64_t epochs, int64_t total_groups, double mean_puzzle_examples,
                          int64_t global_batch_size) {
  return static_cast<int64_t>(static_cast<double>(epochs) * static_cast<double>(total_groups) *
                              mean_puzzle_examples / static_cast<double>(global_batch_size));
}

}  // namespace trm
