// TrainData: the trainer's window on the datasets: the training stream of this rank (sampler +
// prefetch thread), the test split in padded global batches (the eval module's TestSplit, which
// evaluate_test_split reads), and the facts the schedule and the model need. Batches come out as
// CPU tensors ready for the model.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trm/config/arch_config.hpp"
#include "trm/data/batch.hpp"
#include "trm/eval/test_split.hpp"

namespace trm {

struct TrainDataInfo {
  DataShape shape;                  // seq_len, vocab_size, num_puzzle_identifiers
  std::string kind;                 // "arc", "sudoku", "maze"
  int64_t ignore_label_id = 0;
  int64_t blank_identifier_id = 0;
  int64_t total_groups = 0;         // train split
  double mean_puzzle_examples = 0;  // train split
  int64_t test_examples = 0;        // 0: no test split
};

// One rank's rows of a global training batch as tensors (CPU, int32).
struct BatchTensors {
  torch::Tensor inputs;              // [rows, seq_len]
  torch::Tensor labels;              // [rows, seq_len], -100 where ignored
  torch::Tensor puzzle_identifiers;  // [rows]
  torch::Tensor example_indices;     // [rows] int64, global rows of the train split
  int64_t real_rows = 0;
  SamplerPosition position;          // this batch
  SamplerPosition next_position;     // where to resume after it
};

class TrainData {
 public:
  // train_dirs / test_dirs: dataset folders (test_dirs empty: the train dirs' test split).
  TrainData(const std::vector<std::string>& train_dirs, const std::vector<std::string>& test_dirs,
            uint64_t seed, int64_t global_batch_size, int64_t eval_batch_size, int rank,
            int world_size, SamplerPosition start = {});
  ~TrainData();

  const TrainDataInfo& info() const { return info_; }
  const std::vector<std::string>& test_dirs() const { return test_dirs_; }

  BatchTensors next_train();  // never ends; crosses epochs

  // The test split in padded global batches of eval_batch_size rows (this rank's slice).
  TestSplit& test_split() { return *test_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<TestSplit> test_;
  TrainDataInfo info_;
  std::vector<std::string> test_dirs_;
};

}  // namespace trm
