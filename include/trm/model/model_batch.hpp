// ModelBatch: the tensors one supervision step reads. Shapes and dtypes are a contract between
// the data loader, the trainer and the model; index spaces are the dataset's (DESIGN §2).
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "trm/common/ignore_label.hpp"

namespace trm {

// Labels equal to kIgnoreLabelId (trm/common/ignore_label.hpp) or to the dataset's
// ignore_label_id (0 = PAD, DESIGN §2) are left out of the loss and the accuracy.

struct ModelBatch {
  torch::Tensor inputs;              // [batch, seq_len] int32 token ids
  torch::Tensor labels;              // [batch, seq_len] int32 token ids; 0 / -100 = ignore
  torch::Tensor puzzle_identifiers;  // [batch] int32, 0 = blank identifier

  int64_t batch_size() const { return inputs.size(0); }
};

}  // namespace trm
