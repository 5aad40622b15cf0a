// The learning-rate schedule and the step count of pretrain.py: linear warm-up from 0, then a
// half cosine from base_lr down to base_lr*lr_min_ratio at num_training_steps. `step` is the
// 1-based index of the optimizer step being taken (the reference increments before computing).
#pragma once

#include <cstdint>

namespace trm {

double cosine_schedule_with_warmup(int64_t step, double base_lr, int64_t num_warmup_steps,
                                   int64_t num_training_steps, double min_ratio);

// int(epochs * total_groups * mean_puzzle_examples / global_batch_size), as pretrain.py.
int64_t total_train_steps(int64_t epochs, int64_t total_groups, double mean_puzzle_examples,
                          int64_t global_batch_size);

}  // namespace trm
