// TestIterator (see test_iterator.hpp): batch b covers global rows [b*B, min(N, (b+1)*B)); rank r
// reads the part of its slice [b*B + r*L, b*B + (r+1)*L) that is real and pads the rest.
#include "trm/data/test_iterator.hpp"

#include <numeric>

#include "trm/common/error.hpp"

namespace trm {

TestIterator::TestIterator(std::shared_ptr<const PuzzleDataset> dataset, int64_t global_batch_size, int rank,
                           int world_size)
    : dataset_(std::move(dataset)), global_batch_size_(global_batch_size), rank_(rank), world_size_(world_size) {
  TRM_CHECK(dataset_ != nullptr, "TestIterator needs a dataset", "");
  TRM_CHECK(world_size_ >= 1 && rank_ >= 0 && rank_ < world_size_,
            "rank " << rank_ << " is outside world size " << world_size_, "");
  TRM_CHECK(global_batch_size_ >= 1 && global_batch_size_ % world_size_ == 0,
            "evaluation batch size " << global_batch_size_ << " is not a positive multiple of the world size "
                                     << world_size_,
            "choose an eval batch size divisible by the number of ranks");
}

int64_t TestIterator::num_batches() const {
  return (dataset_->num_examples() + global_batch_size_ - 1) / global_batch_size_;
}

bool TestIterator::next(Batch* batch) {
  if (next_batch_ >= num_batches()) return false;
  const DatasetMetadata& meta = dataset_->metadata();
  const int64_t n = dataset_->num_examples();
  const int64_t local = global_batch_size_ / world_size_;
  const int64_t start = next_batch_ * global_batch_size_;
  const int64_t end = std::min(n, start + global_batch_size_);
  const int64_t local_start = start + rank_ * local;
  const int64_t local_end = std::min(start + (rank_ + 1) * local, end);
  const int64_t real = std::max<int64_t>(0, local_end - local_start);

  Batch& b = *batch;
  b.rows = local;
  b.seq_len = meta.seq_len;
  b.inputs.assign(static_cast<size_t>(local * meta.seq_len), static_cast<int32_t>(meta.pad_id));
  b.labels.assign(static_cast<size_t>(local * meta.seq_len), kIgnoreLabelId);
  b.puzzle_identifiers.assign(static_cast<size_t>(local), static_cast<int32_t>(meta.blank_identifier_id));
  b.example_indices.assign(static_cast<size_t>(local), -1);
  std::iota(b.example_indices.begin(), b.example_indices.begin() + real, local_start);
  dataset_->read_examples(b.example_indices.data(), real, b.inputs.data(), b.labels.data());
  const int32_t ignore = static_cast<int32_t>(meta.ignore_label_id);
  for (int64_t i = 0; i < real * meta.seq_len; ++i) {
    if (b.labels[i] == ignore) b.labels[i] = kIgnoreLabelId;
  }
  const auto& ids = dataset_->puzzle_identifiers();
  if (real > 0) {
    int64_t puzzle = dataset_->puzzle_of_example(local_start);
    const auto& pidx = dataset_->puzzle_indices();
    for (int64_t i = 0; i < real; ++i) {
      while (local_start + i >= pidx[puzzle + 1]) ++puzzle;
      b.puzzle_identifiers[i] = ids[puzzle];
    }
  }
  b.real_rows = real;
  b.global_real_rows = end - start;
  b.batch_index = next_batch_;
  b.num_batches = num_batches();
  ++next_batch_;
  return true;
}

}  // namespace trm
