// Augmentation voting over de-augmented ARC predictions (DESIGN §6, the reference's
// evaluators/arc.py): per original puzzle and test input, every distinct predicted grid gets a
// vote count and the mean sigmoid(q_halt) of its votes; grids are ranked by (votes, mean q),
// both descending, remaining ties by the earliest dataset row that predicted the grid (which is
// the order the reference's stable sort keeps on one process). pass@K: a test input is solved
// when its true output is among the top K; a puzzle scores the fraction of its test inputs
// solved; pass@K is the mean over the scored puzzles. The result does not depend on the order
// of the records: they are sorted by (example_index, content) before anything is summed.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "trm/data/arc_grid.hpp"
#include "trm/eval/arc_predictions.hpp"

namespace trm {

struct ArcTestPair {
  Grid input;
  bool has_output = false;  // hidden test sets (and trm-solve tasks) have no outputs
  Grid output;
};
// Original puzzle id -> its test pairs in file order (the dataset's test_puzzles).
using ArcTestPuzzles = std::map<std::string, std::vector<ArcTestPair>>;

struct ArcVoteOptions {
  std::vector<int> pass_ks = {1, 2, 5, 10, 100, 1000};
  int submission_k = 2;  // attempts per test input in submission.json
};

struct ArcCandidate {
  Grid grid;
  int64_t votes = 0;
  double mean_q = 0.0;  // mean sigmoid(q_halt) over the votes
};

struct ArcTestInputVotes {
  int64_t num_votes = 0;            // predictions for this test input
  int64_t num_candidates = 0;       // distinct grids among them
  std::vector<ArcCandidate> top;    // best first, at most submission_k
  bool has_label = false;
  int64_t label_rank = -1;          // 0-based rank of the true output; -1: never predicted
};

struct ArcPuzzleVotes {
  std::string id;
  std::vector<ArcTestInputVotes> tests;  // one per test pair, file order
};

struct ArcVoteResult {
  std::vector<ArcPuzzleVotes> puzzles;  // every test puzzle, sorted by id
  std::vector<int> pass_ks;
  std::vector<double> pass_at_k;        // fraction in [0, 1], parallel to pass_ks
  int64_t num_scored_puzzles = 0;       // puzzles whose test pairs all have outputs
  // Puzzles with at least one test input that received no prediction (their attempts in the
  // submission are placeholders, see arc_submission.hpp).
  std::vector<std::string> puzzles_without_predictions;
  int64_t num_records = 0;
  // Records whose puzzle is not a test puzzle or whose input matches none of its test inputs
  // (e.g. a dataset built with a different test split); they do not vote.
  int64_t num_unmatched_records = 0;

  // {"ARC/pass@1": ..., ...} as the reference names them; empty when no puzzle is scored.
  std::map<std::string, double> metrics() const;
};

ArcVoteResult vote_arc_predictions(const ArcPredictionSet& predictions,
                                   const ArcTestPuzzles& test_puzzles,
                                   const ArcVoteOptions& options = {});

}  // namespace trm
