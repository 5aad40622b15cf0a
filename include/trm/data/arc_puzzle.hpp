// ARC tasks as read from disk: the Kaggle combined layout (<prefix>_<subset>_challenges.json +
// _solutions.json) or directories of per-task JSON files (data/training/<id>.json). Every grid
// is validated (rectangular, 1..30 per side, colours 0..9) and errors name the file and puzzle.
// Also the reader of a dataset's test_puzzles.json, which evaluation uses.
#pragma once

#include <string>
#include <vector>

#include "trm/data/arc_grid.hpp"
#include "trm/data/json.hpp"

namespace trm {

struct ArcExample {
  Grid input;
  Grid output;
  bool has_output = true;  // false: a challenge whose solution is unknown (output is [[0]])
};

struct ArcPuzzle {
  std::string id;
  std::vector<ArcExample> train;
  std::vector<ArcExample> test;
};

struct ArcSubset {
  std::string name;                // "training", "evaluation", ... (directory name for dirs)
  std::vector<ArcPuzzle> puzzles;  // file order
};

// Kaggle layout. Missing solutions file: test outputs filled with [[0]] (the reference's
// dummy) and a warning on stderr. A solutions file that lacks a puzzle or a test output is an
// error naming both.
ArcSubset load_arc_kaggle_subset(const std::string& prefix, const std::string& subset);
// Directory of <id>.json files with "train" and "test" (outputs required), sorted by id.
ArcSubset load_arc_task_dir(const std::string& dir);
// The subset name of a task directory: its last path component ("data/training/" -> "training").
std::string arc_task_dir_subset_name(const std::string& dir);

// Grid from JSON [[...], ...]; `where` prefixes error messages (file, puzzle, field).
Grid arc_grid_from_json(const JsonValue& v, const std::string& where);
JsonValue arc_grid_to_json(const Grid& g);
JsonValue arc_puzzle_to_json(const ArcPuzzle& p);

// The original test puzzles of a converted dataset (<dataset>/test_puzzles.json), file order.
std::vector<ArcPuzzle> load_test_puzzles(const std::string& dataset_dir);

}  // namespace trm
