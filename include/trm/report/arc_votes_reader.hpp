// Reading arc_votes.json (the ARC vote per test input, written by trm-eval and the trainer; the
// layout is documented in trm/eval/arc_votes_file.hpp) into what the report draws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace trm {

struct ColourGrid {
  int rows = 0;
  int cols = 0;
  std::vector<uint8_t> cells;  // [rows * cols] row-major, colours 0..9

  uint8_t at(int r, int c) const { return cells[static_cast<size_t>(r) * cols + c]; }
  bool operator==(const ColourGrid& o) const {
    return rows == o.rows && cols == o.cols && cells == o.cells;
  }
};

struct ArcCandidateView {
  ColourGrid grid;
  int64_t votes = 0;
  double mean_q = 0.0;
};

struct ArcTestView {
  ColourGrid input;
  std::optional<ColourGrid> output;  // none for hidden test sets
  int64_t num_votes = 0;
  int64_t num_candidates = 0;
  int64_t label_rank = -1;            // 0-based rank of the true output; -1 not predicted
  std::vector<ArcCandidateView> top;  // best first
};

struct ArcPuzzleView {
  std::string id;
  std::vector<ArcTestView> tests;
  bool scored() const;                  // every test input has a true output
  double solved_fraction(int k) const;  // test inputs whose output is in the top k
};

struct ArcVotes {
  std::string path;
  int64_t step = -1;
  std::vector<std::pair<int, double>> pass_at_k;  // (K, fraction), increasing K
  int64_t num_scored_puzzles = 0;
  int64_t num_unmatched_records = 0;
  std::vector<ArcPuzzleView> puzzles;
};

// Throws trm::Error naming the file and the offending puzzle or key.
ArcVotes read_arc_votes(const std::string& path);

}  // namespace trm
