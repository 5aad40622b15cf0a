// ArcPredictionSet: the compact, de-augmented predictions one rank has made on the ARC test split
// (the reference evaluator's local hmap + preds), and their byte form for the gather to rank 0.
// Invariants: every distinct grid is stored once (looked up by grid_hash, then compared cell by
// cell, so two grids with the same hash stay two grids); a record names its original puzzle, the hash of
// its de-augmented test input, its de-augmented predicted grid and sigmoid(q_halt); records carry
// the global example index of the dataset row, which is what makes voting independent of the
// number of ranks and of the order in which the ranks' bytes arrive.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "trm/data/arc_grid.hpp"

namespace trm {

struct ArcPredictionRecord {
  uint64_t example_index = 0;  // global row of the test split (dataset order)
  uint32_t puzzle = 0;         // index into ArcPredictionSet::puzzle_names()
  uint64_t input_hash = 0;     // grid_hash of the de-augmented, cropped input
  uint32_t grid = 0;           // index into ArcPredictionSet::grids()
  double q = 0.0;              // sigmoid(q_halt_logit), in double as the reference
};

class ArcPredictionSet {
 public:
  // Adds one prediction. `name` is the augmented puzzle's identifier name
  // ("<id>|||t<k>|||<mapping>" or a bare id); `input` and `prediction` are the cropped grids
  // as the model saw and produced them (crop_arc_tokens); both are de-augmented here.
  void add(const std::string& name, const Grid& input, const Grid& prediction,
           float q_halt_logit, uint64_t example_index);
  // The same with already de-augmented grids and q = sigmoid(q_halt_logit).
  void add_grids(const std::string& original_id, const Grid& input, const Grid& prediction,
                 double q, uint64_t example_index);

  // Appends every record of `other` (grids and names re-indexed into this set).
  void merge(const ArcPredictionSet& other);

  // Little-endian bytes with a magic and a format version; deserialize() checks both and every
  // length, and throws trm::Error naming `source` on damage.
  std::vector<uint8_t> serialize() const;
  static ArcPredictionSet deserialize(const std::vector<uint8_t>& bytes,
                                      const std::string& source);

  void clear();
  size_t size() const { return records_.size(); }
  const std::vector<ArcPredictionRecord>& records() const { return records_; }
  const std::vector<Grid>& grids() const { return grids_; }
  const std::vector<std::string>& puzzle_names() const { return puzzle_names_; }

 private:
  uint32_t intern_grid(const Grid& grid);
  uint32_t intern_puzzle(const std::string& name);

  std::vector<Grid> grids_;
  std::unordered_multimap<uint64_t, uint32_t> grid_index_;  // grid_hash -> index in grids_
  std::vector<std::string> puzzle_names_;
  std::unordered_map<std::string, uint32_t> puzzle_index_;
  std::vector<ArcPredictionRecord> records_;
};

}  // namespace trm
