// Reading a sample of eval_outputs.h5 (trm-eval --save-outputs; layout in
// trm/eval/eval_outputs_file.hpp) for the Sudoku and Maze pages: the exact and token accuracy
// over every row, and a few rows to draw, half of them failed ones when there are any. Rows are
// read in blocks, so a large test split is scanned without holding it in memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace trm {

struct TokenRow {
  int64_t index = 0;           // example index in the test split
  std::vector<int32_t> input;  // [seq_len] tokens
  std::vector<int32_t> label;  // [seq_len], -100 where ignored
  std::vector<int32_t> pred;   // [seq_len]
  bool exact = false;          // every valid label token predicted
};

struct EvalOutputsSample {
  std::string path;
  std::string kind;  // the dataset kind ("sudoku", "maze", "arc"); empty when the file predates it
  int64_t seq_len = 0;
  int64_t num_examples = 0;
  int64_t num_counted = 0;  // rows with at least one valid label
  int64_t num_exact = 0;
  int64_t num_tokens = 0;  // valid label tokens
  int64_t num_tokens_correct = 0;
  std::vector<TokenRow> rows;  // the sample, by example index
};

// Throws trm::Error naming the file when it is not a readable eval outputs file.
EvalOutputsSample read_eval_outputs_sample(const std::string& path, int64_t max_rows);

}  // namespace trm
