// TestSplit: one rank's view of a dataset's test split for evaluation, as CPU tensors ready for
// the model: every example once, in stored order, in padded global batches (rank r takes rows
// [r*B/W, (r+1)*B/W) of each, see trm/data/test_iterator.hpp). Labels equal to the dataset's
// ignore_label_id (and all labels of padding rows) are -100.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace trm {

struct TestSplitInfo {
  std::vector<std::string> dirs;
  std::string kind;  // "arc", "sudoku", "maze"
  int64_t seq_len = 0;
  int64_t vocab_size = 0;
  int64_t ignore_label_id = 0;
  int64_t blank_identifier_id = 0;
  int64_t num_puzzle_identifiers = 0;
  int64_t num_examples = 0;
  int64_t num_batches = 0;
  int64_t global_batch_size = 0;
};

struct EvalBatch {
  torch::Tensor inputs;              // [rows, seq_len] int32
  torch::Tensor labels;              // [rows, seq_len] int32, -100 where ignored
  torch::Tensor puzzle_identifiers;  // [rows] int32, blank identifier in padding rows
  torch::Tensor example_indices;     // [rows] int64, global row of the split; -1 for padding
  int64_t real_rows = 0;             // real rows form a prefix
};

class TestSplit {
 public:
  // Collective only in the sense that every rank must build one with the same arguments.
  TestSplit(const std::vector<std::string>& dirs, int64_t global_batch_size, int rank,
            int world_size);
  ~TestSplit();

  const TestSplitInfo& info() const { return info_; }
  void reset();
  bool next(EvalBatch* batch);  // false when the split is exhausted

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  TestSplitInfo info_;
};

}  // namespace trm
