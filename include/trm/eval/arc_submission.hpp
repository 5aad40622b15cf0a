// submission.json in the ARC Prize (Kaggle) format, built from the voting result:
//   {"<puzzle id>": [{"attempt_1": grid, "attempt_2": grid}, ...one object per test input], ...}
// grids as lists of lists of ints. Attempt k is the k-th ranked grid; when fewer distinct grids
// were predicted the best one repeats (as the reference pads). A test input without any
// prediction gets the placeholder grid [[0]] in every attempt, so the file keeps one entry per
// test input and stays valid for Kaggle; the puzzle is listed in
// ArcVoteResult::puzzles_without_predictions. An empty (0x0) predicted grid is written as [[0]]
// for the same reason.
#pragma once

#include <string>

#include "trm/data/json.hpp"
#include "trm/eval/arc_voting.hpp"

namespace trm {

JsonValue arc_submission_json(const ArcVoteResult& result, int attempts = 2);

// Writes to_json(arc_submission_json(...)) atomically (output_files.hpp).
void write_arc_submission(const ArcVoteResult& result, const std::string& path,
                          int attempts = 2);

// Checks the Kaggle structure against the test puzzles: exactly their ids, one object per test
// input, keys attempt_1..attempt_<attempts>, each a non-empty rectangular list of lists of
// integers 0..9 of at most 30x30. Throws trm::Error naming the puzzle and what is wrong.
void validate_arc_submission(const JsonValue& submission, const ArcTestPuzzles& puzzles,
                             int attempts = 2);

}  // namespace trm
