// DatasetMetadata: what a converted dataset split says about itself (DESIGN §3), stored as HDF5
// attributes on every shard (datasets/SCHEMA.md). Shards of one split must agree on every field
// except the per-shard counts; the reader checks that and sums the counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trm/common/ignore_label.hpp"  // kIgnoreLabelId, written by the loaders

namespace trm {

// Bumped whenever the on-disk layout changes; readers refuse other versions.
constexpr int kDatasetFormatVersion = 1;

struct DatasetMetadata {
  int format_version = kDatasetFormatVersion;
  std::string kind;              // "arc", "sudoku" or "maze" (informative)
  int64_t seq_len = 0;           // tokens per example
  int64_t vocab_size = 0;        // tokens are 0..vocab_size-1
  int64_t pad_id = 0;            // input token of padding positions/rows
  int64_t ignore_label_id = 0;   // stored label that the loss ignores (PAD)
  int64_t blank_identifier_id = 0;       // puzzle identifier of padding rows
  int64_t num_puzzle_identifiers = 1;    // including the blank identifier 0
  int64_t total_groups = 0;              // original puzzles in this split
  int64_t total_puzzles = 0;             // augmented puzzles in this split
  int64_t total_examples = 0;            // rows in this split
  double mean_puzzle_examples = 0.0;     // total_examples / total_puzzles
  std::vector<std::string> sets = {"all"};
};

}  // namespace trm
