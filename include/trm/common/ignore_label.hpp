// kIgnoreLabelId: the label value that the loss and the accuracy skip (the reference's
// IGNORE_LABEL_ID). The loaders write it where the stored label equals the dataset's
// ignore_label_id (PAD) and on every position of a padding row; the model's loss head skips it.
#pragma once

#include <cstdint>

namespace trm {

constexpr int32_t kIgnoreLabelId = -100;

}  // namespace trm
