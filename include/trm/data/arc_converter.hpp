// ARC conversion as the reference's dataset/build_arc_dataset.py does it: subsets shuffled,
// per puzzle up to num_aug distinct augmented variants (dihedral transform + colour permutation,
// deduplicated by whole-puzzle hash, at most 5*num_aug tries), training examples translated
// inside the 30x30 canvas except one random example per puzzle, EOS row/column, identifiers in
// order of first appearance (0 blank), the test-set subsets' test pairs as the test split.
// Groups are generated in parallel with per-group random streams and written in order, so the
// output depends on the seed only; memory is bounded by a few groups.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trm/data/arc_grid.hpp"
#include "trm/data/arc_puzzle.hpp"
#include "trm/data/dataset_writer.hpp"
#include "trm/data/rng.hpp"

namespace trm {

constexpr int kArcSeqLen = kArcMaxGridSize * kArcMaxGridSize;  // 900
constexpr int kArcVocabSize = 12;  // PAD, EOS, colours 0..9
constexpr uint8_t kArcPadToken = 0;
constexpr uint8_t kArcEosToken = 1;
constexpr int kArcAugmentRetriesFactor = 5;

// Writes grid (colours +2) at top-left offset (pad_r, pad_c) of a 30x30 canvas, EOS (1) on the
// row below it and the column right of it where they fit, PAD (0) elsewhere. seq: 900 tokens.
void encode_arc_grid(const Grid& grid, int pad_r, int pad_c, uint8_t* seq);
// The reference evaluator's crop: the largest top-left rectangle of colour tokens, minus 2.
Grid crop_arc_grid(const uint8_t* seq);
Grid crop_arc_grid(const int32_t* seq);

// Whole-puzzle hash: order-independent over (input, output) pairs of train and test examples.
struct PuzzleHash {
  uint64_t hi = 0, lo = 0;
  bool operator==(const PuzzleHash& o) const { return hi == o.hi && lo == o.lo; }
};
PuzzleHash arc_puzzle_hash(const ArcPuzzle& puzzle);

// Distinct augmentations of a puzzle (the original excluded): up to num_aug variants whose
// augmented puzzles hash differently from the original and from each other, drawing at most
// kArcAugmentRetriesFactor * num_aug (transform, permutation) candidates from rng.
std::vector<ArcAugmentation> arc_distinct_augmentations(const ArcPuzzle& puzzle, int num_aug, Rng* rng);
ArcPuzzle augment_arc_puzzle(const ArcPuzzle& puzzle, const ArcAugmentation& aug);

struct ArcConvertOptions {
  std::string input_prefix;             // Kaggle layout: <prefix>_<subset>_challenges.json
  std::vector<std::string> subsets;     // with input_prefix
  std::vector<std::string> input_dirs;  // or: directories of <id>.json (subset = dir name)
  std::vector<std::string> test_sets;   // subsets whose test pairs form the test split
  int num_aug = 1000;
  uint64_t seed = 42;
  int puzzle_identifiers_start = 1;      // > 1 to keep several datasets' identifiers apart
  std::vector<std::string> only_puzzles; // non-empty: convert just these puzzle ids
  DatasetWriterOptions writer;
  int threads = 2;
  bool progress = true;
};

struct ArcConvertReport {
  SplitSummary train, test;
  int64_t num_puzzle_identifiers = 0;
  int64_t bytes = 0;
  double seconds = 0;
  std::vector<std::string> not_full;  // "<id>: <variants>" for puzzles with fewer variants
};

ArcConvertReport convert_arc(const ArcConvertOptions& options);

}  // namespace trm
