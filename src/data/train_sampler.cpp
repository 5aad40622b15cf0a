// TrainSampler and materialize_batch (see train_sampler.hpp). All randomness of epoch e comes
// from one Rng(seed, e) drawn in a fixed order (group shuffle, then per group: puzzle, then its
// examples), so any rank, in any world size, after any restart, replays the same global plan.
#include "trm/data/train_sampler.hpp"

#include <numeric>

#include "trm/common/error.hpp"
#include "trm/data/rng.hpp"

namespace trm {

struct TrainSampler::EpochState {
  int64_t epoch = 0;
  Rng rng{0};
  std::vector<int64_t> group_order;
  size_t cursor = 0;           // next position in group_order
  int64_t batches_done = 0;    // plans produced in this epoch
  std::vector<int64_t> scratch;
};

TrainSampler::TrainSampler(std::shared_ptr<const PuzzleDataset> dataset, uint64_t seed,
                           int64_t global_batch_size, int rank, int world_size, SamplerPosition start)
    : dataset_(std::move(dataset)), seed_(seed), global_batch_size_(global_batch_size), rank_(rank),
      world_size_(world_size) {
  TRM_CHECK(dataset_ != nullptr, "TrainSampler needs a dataset", "");
  TRM_CHECK(world_size_ >= 1 && rank_ >= 0 && rank_ < world_size_,
            "rank " << rank_ << " is outside world size " << world_size_, "");
  TRM_CHECK(global_batch_size_ >= 1 && global_batch_size_ % world_size_ == 0,
            "global_batch_size " << global_batch_size_ << " is not a positive multiple of the world size "
                                 << world_size_,
            "choose a global_batch_size divisible by the number of ranks");
  TRM_CHECK(start.epoch >= 0 && start.batch_in_epoch >= 0,
            "invalid sampler position (" << start.epoch << ", " << start.batch_in_epoch << ")", "");
  TRM_CHECK(batches_in_epoch(start.epoch) >= 1,
            "dataset " << (dataset_->dirs().empty() ? "" : dataset_->dirs().front()) << " split "
                       << dataset_->split() << " has " << dataset_->num_examples() << " examples in "
                       << dataset_->num_groups() << " groups: one epoch cannot fill a global batch of "
                       << global_batch_size_,
            "lower global_batch_size or convert more data");
  start_epoch(start.epoch);
  GlobalBatchPlan skipped;
  for (int64_t k = 0; k < start.batch_in_epoch; ++k) {
    if (!plan_one(&skipped)) break;  // past the end: next_plan() rolls over to the next epoch
  }
  position_ = start;
}

std::shared_ptr<TrainSampler::EpochState> TrainSampler::make_epoch(int64_t epoch) const {
  auto st = std::make_shared<EpochState>();
  st->epoch = epoch;
  st->rng = Rng(seed_, static_cast<uint64_t>(epoch));
  st->group_order.resize(static_cast<size_t>(dataset_->num_groups()));
  std::iota(st->group_order.begin(), st->group_order.end(), 0);
  st->rng.shuffle(st->group_order.begin(), st->group_order.end());
  return st;
}

void TrainSampler::start_epoch(int64_t epoch) { epoch_ = make_epoch(epoch); }

bool TrainSampler::plan_one(GlobalBatchPlan* plan) { return plan_from(epoch_.get(), plan); }

bool TrainSampler::plan_from(EpochState* state, GlobalBatchPlan* plan) const {
  EpochState& st = *state;
  const auto& gidx = dataset_->group_indices();
  const auto& pidx = dataset_->puzzle_indices();
  plan->example_rows.clear();
  plan->puzzles.clear();
  int64_t size = 0;
  while (st.cursor < st.group_order.size() && size < global_batch_size_) {
    const int64_t g = st.group_order[st.cursor++];
    const int64_t puzzle = st.rng.range(gidx[g], gidx[g + 1]);
    const int64_t first = pidx[puzzle];
    const int64_t n = pidx[puzzle + 1] - first;
    const int64_t take = std::min(n, global_batch_size_ - size);
    // A random subset of `take` examples in random order (partial Fisher-Yates).
    st.scratch.resize(static_cast<size_t>(n));
    std::iota(st.scratch.begin(), st.scratch.end(), 0);
    for (int64_t k = 0; k < take; ++k) {
      const int64_t j = k + static_cast<int64_t>(st.rng.below(static_cast<uint64_t>(n - k)));
      std::swap(st.scratch[k], st.scratch[j]);
      plan->example_rows.push_back(first + st.scratch[k]);
      plan->puzzles.push_back(puzzle);
    }
    size += take;
  }
  if (size < global_batch_size_) return false;  // the epoch's last, partial batch is dropped
  st.batches_done += 1;
  return true;
}

GlobalBatchPlan TrainSampler::next_plan() {
  GlobalBatchPlan plan;
  if (!plan_one(&plan)) {
    start_epoch(epoch_->epoch + 1);
    position_ = SamplerPosition{epoch_->epoch, 0};
    TRM_CHECK(plan_one(&plan), "epoch " << epoch_->epoch << " cannot fill a global batch of "
                                         << global_batch_size_,
              "lower global_batch_size or convert more data");
  }
  position_ = SamplerPosition{epoch_->epoch, epoch_->batches_done};
  return plan;
}

Batch TrainSampler::next() {
  GlobalBatchPlan plan = next_plan();
  Batch b = materialize_batch(*dataset_, plan, rank_, world_size_);
  b.position = SamplerPosition{position_.epoch, position_.batch_in_epoch - 1};
  b.next_position = position_;
  return b;
}

int64_t TrainSampler::batches_in_epoch(int64_t epoch) const {
  std::shared_ptr<EpochState> st = make_epoch(epoch);
  GlobalBatchPlan plan;
  int64_t n = 0;
  while (plan_from(st.get(), &plan)) ++n;
  return n;
}

Batch materialize_batch(const PuzzleDataset& dataset, const GlobalBatchPlan& plan, int rank, int world_size) {
  const int64_t global = static_cast<int64_t>(plan.example_rows.size());
  TRM_CHECK(world_size >= 1 && global % world_size == 0 && rank >= 0 && rank < world_size,
            "cannot slice a global batch of " << global << " rows for rank " << rank << " of " << world_size, "");
  const DatasetMetadata& meta = dataset.metadata();
  const int64_t local = global / world_size;
  const int64_t begin = rank * local;
  Batch b;
  b.rows = local;
  b.seq_len = meta.seq_len;
  b.inputs.resize(static_cast<size_t>(local * meta.seq_len));
  b.labels.resize(static_cast<size_t>(local * meta.seq_len));
  b.puzzle_identifiers.resize(static_cast<size_t>(local));
  b.example_indices.assign(plan.example_rows.begin() + begin, plan.example_rows.begin() + begin + local);
  dataset.read_examples(b.example_indices.data(), local, b.inputs.data(), b.labels.data());
  const int32_t ignore = static_cast<int32_t>(meta.ignore_label_id);
  for (auto& l : b.labels) {
    if (l == ignore) l = kIgnoreLabelId;
  }
  const auto& ids = dataset.puzzle_identifiers();
  for (int64_t i = 0; i < local; ++i) b.puzzle_identifiers[i] = ids[plan.puzzles[begin + i]];
  b.real_rows = local;
  b.global_real_rows = global;
  return b;
}

}  // namespace trm
