// TestIterator: every example of a split exactly once, in stored order, in global batches of
// global_batch_size rows; the last global batch is padded with PAD inputs, ignored labels
// (kIgnoreLabelId) and the blank identifier. Rank r gets rows [r*B/W, (r+1)*B/W) of each global
// batch, as the reference's _iter_test, so every rank sees the same number of batches.
#pragma once

#include <cstdint>
#include <memory>

#include "trm/data/batch.hpp"
#include "trm/data/puzzle_dataset.hpp"

namespace trm {

class TestIterator {
 public:
  TestIterator(std::shared_ptr<const PuzzleDataset> dataset, int64_t global_batch_size, int rank,
               int world_size);

  // Fills *batch with the next batch of this rank; false when the split is exhausted.
  bool next(Batch* batch);
  int64_t num_batches() const;   // ceil(num_examples / global_batch_size)
  void reset() { next_batch_ = 0; }

 private:
  std::shared_ptr<const PuzzleDataset> dataset_;
  int64_t global_batch_size_;
  int rank_;
  int world_size_;
  int64_t next_batch_ = 0;
};

}  // namespace trm
