// Batch: one rank's slice of a global batch, as the training sampler and the test iterator
// deliver it. Tokens are int32 so they can be wrapped by torch::from_blob without a copy.
// Invariant: inputs/labels hold rows * seq_len values, puzzle_identifiers and example_indices
// hold rows values; rows == global_batch_size / world_size always (padding rows included).
#pragma once

#include <cstdint>
#include <vector>

namespace trm {

// Where a training sampler stands: the next batch it produces is batch `batch_in_epoch` of
// epoch `epoch` (both 0-based). Saving this in a checkpoint and passing it back to the
// sampler continues the exact same sequence of global batches.
struct SamplerPosition {
  int64_t epoch = 0;
  int64_t batch_in_epoch = 0;

  bool operator==(const SamplerPosition& o) const {
    return epoch == o.epoch && batch_in_epoch == o.batch_in_epoch;
  }
  bool operator!=(const SamplerPosition& o) const { return !(*this == o); }
};

struct Batch {
  int64_t rows = 0;      // this rank's rows: global_batch_size / world_size
  int64_t seq_len = 0;
  std::vector<int32_t> inputs;              // [rows, seq_len] row-major; PAD in padding rows
  std::vector<int32_t> labels;              // [rows, seq_len]; kIgnoreLabelId where ignored
  std::vector<int32_t> puzzle_identifiers;  // [rows]; blank identifier in padding rows
  std::vector<int64_t> example_indices;     // [rows]; global row in the split, -1 for padding

  int64_t real_rows = 0;         // rows of this slice holding real examples (a prefix)
  int64_t global_real_rows = 0;  // real examples in the whole global batch (all ranks)

  // Training only: which batch this is and where to resume after consuming it.
  SamplerPosition position;        // (epoch, batch_in_epoch) of this batch
  SamplerPosition next_position;   // save this in a checkpoint after the step on this batch
  // Test only: index of this global batch and how many global batches the split has.
  int64_t batch_index = 0;
  int64_t num_batches = 0;
};

}  // namespace trm
