// TestSplit over PuzzleDataset("test") and TestIterator (see test_split.hpp).
#include "trm/eval/test_split.hpp"

#include "trm/common/error.hpp"
#include "trm/data/puzzle_dataset.hpp"
#include "trm/data/test_iterator.hpp"

namespace trm {

struct TestSplit::Impl {
  std::shared_ptr<const PuzzleDataset> dataset;
  std::unique_ptr<TestIterator> iter;
};

TestSplit::TestSplit(const std::vector<std::string>& dirs, int64_t global_batch_size, int rank,
                     int world_size)
    : impl_(std::make_unique<Impl>()) {
  TRM_CHECK(!dirs.empty(), "no test dataset given", "pass --data DIR or set data_paths");
  impl_->dataset = std::make_shared<PuzzleDataset>(dirs, "test");
  impl_->iter = std::make_unique<TestIterator>(impl_->dataset, global_batch_size, rank, world_size);
  const DatasetMetadata& m = impl_->dataset->metadata();
  info_.dirs = dirs;
  info_.kind = m.kind;
  info_.seq_len = m.seq_len;
  info_.vocab_size = m.vocab_size;
  info_.ignore_label_id = m.ignore_label_id;
  info_.blank_identifier_id = m.blank_identifier_id;
  info_.num_puzzle_identifiers = m.num_puzzle_identifiers;
  info_.num_examples = impl_->dataset->num_examples();
  info_.num_batches = impl_->iter->num_batches();
  info_.global_batch_size = global_batch_size;
}

TestSplit::~TestSplit() = default;

void TestSplit::reset() { impl_->iter->reset(); }

bool TestSplit::next(EvalBatch* out) {
  Batch b;
  if (!impl_->iter->next(&b)) return false;
  const auto i32 = torch::TensorOptions().dtype(torch::kInt32);
  out->inputs = torch::from_blob(b.inputs.data(), {b.rows, b.seq_len}, i32).clone();
  out->labels = torch::from_blob(b.labels.data(), {b.rows, b.seq_len}, i32).clone();
  out->puzzle_identifiers = torch::from_blob(b.puzzle_identifiers.data(), {b.rows}, i32).clone();
  out->example_indices =
      torch::from_blob(b.example_indices.data(), {b.rows}, torch::TensorOptions().dtype(torch::kInt64))
          .clone();
  out->real_rows = b.real_rows;
  return true;
}

}  // namespace trm
