// ArcEvaluator: the ARC evaluator of one rank (the reference's evaluators/arc.py). During the
// test-split pass each rank feeds its rows (add_batch); finish() is collective: every rank's
// de-augmented predictions are serialised and gathered to rank 0, which votes and returns the
// result (pass@K and the submission attempts). Rows with the blank identifier (batch padding) are
// skipped. Results do not depend on the world size: rows carry their global example index.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trm/data/arc_puzzle.hpp"
#include "trm/eval/arc_predictions.hpp"
#include "trm/eval/arc_voting.hpp"
#include "trm/eval/bytes_gather.hpp"

namespace trm {

// identifiers.json of the dataset directories (merged index-wise): identifier -> puzzle name.
// (Re-exported here so that programs holding the model headers need not include the data
// reader's headers.)
std::vector<std::string> dataset_identifier_names(const std::vector<std::string>& dirs);

// The dataset's test puzzles (test_puzzles.json) as voting needs them.
ArcTestPuzzles arc_test_puzzles_from(const std::vector<ArcPuzzle>& puzzles);

class ArcEvaluator {
 public:
  // identifier_names[id] is the (augmented) puzzle name of identifier id (identifiers.json).
  ArcEvaluator(std::vector<std::string> identifier_names, ArcTestPuzzles test_puzzles,
               int64_t blank_identifier_id = 0, ArcVoteOptions options = {});

  // identifiers.json and test_puzzles.json of the dataset directories (the test split's).
  static ArcEvaluator from_dataset(const std::vector<std::string>& dirs,
                                   int64_t blank_identifier_id = 0,
                                   ArcVoteOptions options = {});

  // Drops the predictions of a previous pass.
  void begin() { local_.clear(); }

  // `rows` examples of this rank: puzzle_identifiers [rows], inputs and preds [rows, 900]
  // tokens, q_halt_logits [rows], example_indices [rows] (global rows of the split).
  void add_batch(int64_t rows, const int32_t* puzzle_identifiers, const int32_t* inputs,
                 const int64_t* preds, const float* q_halt_logits,
                 const int64_t* example_indices);

  // Collective over the ranks behind `gather`. Rank 0 gets the vote; the others nullopt.
  std::optional<ArcVoteResult> finish(const GatherBytesFn& gather) const;

  const ArcPredictionSet& local_predictions() const { return local_; }
  const ArcTestPuzzles& test_puzzles() const { return test_puzzles_; }
  const ArcVoteOptions& options() const { return options_; }

 private:
  std::vector<std::string> identifier_names_;
  ArcTestPuzzles test_puzzles_;
  int64_t blank_identifier_id_;
  ArcVoteOptions options_;
  ArcPredictionSet local_;
};

}  // namespace trm
