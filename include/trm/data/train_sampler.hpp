// TrainSampler: the world-size-invariant training order of DESIGN §3. Per epoch e a generator
// seeded from (seed, e) shuffles the groups; for each group in that order it picks one puzzle,
// then a random subset of that puzzle's examples (in random order), packing them into global
// batches of exactly global_batch_size rows (a puzzle that does not fit is truncated to fill
// the batch, as the reference's _sample_batch); the final partial batch of an epoch is dropped.
// Rank r reads only rows [r*B/W, (r+1)*B/W) of each global batch. The global batch sequence is
// a function of (dataset, seed, global_batch_size) alone: never of rank or world size.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "trm/data/batch.hpp"
#include "trm/data/puzzle_dataset.hpp"

namespace trm {

// One global batch before any rows are read: global example rows and their puzzles.
struct GlobalBatchPlan {
  std::vector<int64_t> example_rows;  // [global_batch_size] global example indices
  std::vector<int64_t> puzzles;       // [global_batch_size] puzzle index of each row
};

class TrainSampler {
 public:
  // Throws trm::Error when global_batch_size is not a multiple of world_size, rank is out of
  // range, or an epoch of the dataset cannot fill a single global batch.
  TrainSampler(std::shared_ptr<const PuzzleDataset> dataset, uint64_t seed,
               int64_t global_batch_size, int rank, int world_size,
               SamplerPosition start = SamplerPosition{});

  // The next batch of this rank (reads its rows); crosses epochs on its own, never ends.
  Batch next();
  // The next global plan without reading rows (advances the position like next()).
  GlobalBatchPlan next_plan();

  // Position of the batch next() returns next.
  SamplerPosition position() const { return position_; }
  // Number of full global batches in epoch `epoch` (replays that epoch's draws; cheap).
  int64_t batches_in_epoch(int64_t epoch) const;

  int64_t global_batch_size() const { return global_batch_size_; }
  int64_t local_batch_size() const { return global_batch_size_ / world_size_; }
  const PuzzleDataset& dataset() const { return *dataset_; }

 private:
  struct EpochState;
  std::shared_ptr<EpochState> make_epoch(int64_t epoch) const;
  void start_epoch(int64_t epoch);
  bool plan_one(GlobalBatchPlan* plan);  // false at the end of the epoch
  bool plan_from(EpochState* state, GlobalBatchPlan* plan) const;

  std::shared_ptr<const PuzzleDataset> dataset_;
  uint64_t seed_;
  int64_t global_batch_size_;
  int rank_;
  int world_size_;
  SamplerPosition position_;
  std::shared_ptr<EpochState> epoch_;
};

// Reads this rank's slice of a global plan and fills a Batch (labels mapped to kIgnoreLabelId
// where they equal the metadata's ignore_label_id).
Batch materialize_batch(const PuzzleDataset& dataset, const GlobalBatchPlan& plan, int rank,
                        int world_size);

}  // namespace trm
