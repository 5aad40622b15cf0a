// The tiny data shape (6 positions, vocabulary 5, 4 puzzle identifiers) and the seeded random
// batches the model's behavioural tests (test_model_trm, test_model_variants) run on.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "trm/config/arch_config.hpp"
#include "trm/model/model_batch.hpp"

namespace trm {

inline const DataShape kTinyShape{6, 5, 4};

inline ModelBatch tiny_batch(int64_t batch, int64_t seed) {
  torch::manual_seed(seed);
  const auto i32 = torch::TensorOptions().dtype(torch::kInt32);
  return ModelBatch{torch::randint(1, 5, {batch, 6}, i32), torch::randint(1, 5, {batch, 6}, i32),
                    torch::randint(0, 4, {batch}, i32)};
}

}  // namespace trm
