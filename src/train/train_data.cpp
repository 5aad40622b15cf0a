// TrainData over PuzzleDataset, TrainSampler (through a Prefetcher) and TestSplit.
#include "trm/train/train_data.hpp"

#include "trm/common/error.hpp"
#include "trm/data/prefetcher.hpp"
#include "trm/data/puzzle_dataset.hpp"
#include "trm/data/train_sampler.hpp"

namespace trm {

struct TrainData::Impl {
  std::shared_ptr<const PuzzleDataset> train;
  std::unique_ptr<Prefetcher> prefetcher;
};

namespace {

BatchTensors to_tensors(Batch&& b) {
  BatchTensors t;
  const auto i32 = torch::TensorOptions().dtype(torch::kInt32);
  t.inputs = torch::from_blob(b.inputs.data(), {b.rows, b.seq_len}, i32).clone();
  t.labels = torch::from_blob(b.labels.data(), {b.rows, b.seq_len}, i32).clone();
  t.puzzle_identifiers = torch::from_blob(b.puzzle_identifiers.data(), {b.rows}, i32).clone();
  t.example_indices =
      torch::from_blob(b.example_indices.data(), {static_cast<int64_t>(b.example_indices.size())},
                       torch::TensorOptions().dtype(torch::kInt64))
          .clone();
  t.real_rows = b.real_rows;
  t.position = b.position;
  t.next_position = b.next_position;
  return t;
}

}  // namespace

TrainData::TrainData(const std::vector<std::string>& train_dirs, const std::vector<std::string>& test_dirs,
                     uint64_t seed, int64_t global_batch_size, int64_t eval_batch_size, int rank, int world_size,
                     SamplerPosition start)
    : impl_(std::make_unique<Impl>()), test_dirs_(test_dirs.empty() ? train_dirs : test_dirs) {
  impl_->train = std::make_shared<PuzzleDataset>(train_dirs, "train");
  const DatasetMetadata& m = impl_->train->metadata();
  info_.shape.seq_len = m.seq_len;
  info_.shape.vocab_size = m.vocab_size;
  info_.shape.num_puzzle_identifiers = m.num_puzzle_identifiers;
  info_.kind = m.kind;
  info_.ignore_label_id = m.ignore_label_id;
  info_.blank_identifier_id = m.blank_identifier_id;
  info_.total_groups = m.total_groups;
  info_.mean_puzzle_examples = m.mean_puzzle_examples;

  test_ = std::make_unique<TestSplit>(test_dirs_, eval_batch_size, rank, world_size);
  const TestSplitInfo& tm = test_->info();
  TRM_CHECK(tm.seq_len == m.seq_len && tm.vocab_size == m.vocab_size,
            "test split (" << test_dirs_.front() << ") has seq_len " << tm.seq_len << ", vocab " << tm.vocab_size
                           << " but the train split has " << m.seq_len << ", " << m.vocab_size,
            "evaluate on a dataset converted with the same task");
  info_.shape.num_puzzle_identifiers = std::max(info_.shape.num_puzzle_identifiers, tm.num_puzzle_identifiers);
  info_.test_examples = tm.num_examples;

  auto sampler = std::make_unique<TrainSampler>(impl_->train, seed, global_batch_size, rank, world_size, start);
  impl_->prefetcher = std::make_unique<Prefetcher>(std::move(sampler), 4);
}

TrainData::~TrainData() = default;

BatchTensors TrainData::next_train() { return to_tensors(impl_->prefetcher->next()); }

}  // namespace trm
