// Sudoku data: the Sudoku-Extreme CSV reader (header source,question,answer,rating; '.' blank),
// the reference's validity-preserving shuffles (digits, bands/stacks, rows/columns within them,
// transpose for square boxes), a generator of puzzles with a unique solution for 4x4 (2x2 boxes),
// 6x6 (2x3) and 9x9 (3x3), and conversion to the HDF5 layout. Tokens: digit + 1 (blank -> 1),
// PAD 0, vocab size + 2; one group per original puzzle holding it and its augmentations.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trm/data/dataset_writer.hpp"
#include "trm/data/rng.hpp"

namespace trm {

struct SudokuShape {
  int size = 9;      // digits 1..size, size x size cells
  int box_rows = 3;  // rows per box
  int box_cols = 3;  // columns per box
  int cells() const { return size * size; }
};
// 4 -> 2x2 boxes, 6 -> 2x3 boxes, 9 -> 3x3 boxes; other sizes throw.
SudokuShape sudoku_shape(int size);

using SudokuBoard = std::vector<uint8_t>;  // [size*size] row-major, 0 = blank

struct SudokuPuzzle {
  SudokuBoard question;
  SudokuBoard answer;
  int rating = 0;
};

// Number of solutions, counting stops at `limit` (limit 2 answers "unique?"); -1 when the
// search gave up after max_nodes nodes (max_nodes < 0: no limit).
int count_sudoku_solutions(const SudokuShape& shape, const SudokuBoard& board, int limit, int64_t max_nodes = -1);
// A uniformly shuffled valid full grid.
SudokuBoard random_sudoku_solution(const SudokuShape& shape, Rng* rng);
// A puzzle with exactly `blanks` blanks and a unique solution; throws trm::Error when no such
// puzzle was found within the attempt budget (e.g. too many blanks for the size).
SudokuPuzzle generate_sudoku(const SudokuShape& shape, int blanks, Rng* rng);
// The reference's shuffle_sudoku applied to question and answer alike.
void shuffle_sudoku(const SudokuShape& shape, SudokuPuzzle* puzzle, Rng* rng);

// Reads a 9x9 Sudoku-Extreme CSV; rows with rating < min_difficulty (when >= 0) are skipped.
// Errors name the file and line (wrong header, field count, width, characters).
std::vector<SudokuPuzzle> read_sudoku_csv(const std::string& path, int min_difficulty);

struct SudokuConvertOptions {
  std::string train_csv, test_csv;  // CSV mode
  int64_t subsample = -1;           // train only; -1: all
  int min_difficulty = -1;
  int64_t generate = 0;             // > 0: generator mode, training puzzles
  int64_t generate_test = 0;        // held-out generated puzzles
  int size = 9;
  int blanks = -1;                  // generator: blanks per puzzle (or from givens)
  int num_aug = 0;                  // augmented copies per training puzzle
  uint64_t seed = 0;
  DatasetWriterOptions writer;
  int threads = 2;
  bool progress = true;
};

struct SimpleConvertReport {
  SplitSummary train, test;
  int64_t bytes = 0;
  double seconds = 0;
};

SimpleConvertReport convert_sudoku(const SudokuConvertOptions& options);

}  // namespace trm
