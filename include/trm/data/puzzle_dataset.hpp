// PuzzleDataset: read-only view of one split ("train" or "test") of one or more datasets written
// by trm-convert (layout: datasets/SCHEMA.md). The index arrays (puzzle/group offsets,
// identifiers) are loaded into memory and made global over all shards; example rows are read on
// demand (or held in memory when the split is small), so a rank touches only the rows it trains
// on. Opening validates every shard (format
// version, metadata agreement, index consistency) and throws trm::Error naming the file and
// how to rebuild it. Thread-safe for concurrent read_examples() calls (HDF5 is serialised).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trm/data/dataset_metadata.hpp"

namespace trm {

class PuzzleDataset {
 public:
  // Splits whose rows (inputs + labels) take at most this many bytes are read into memory at
  // open (Sudoku, Maze, small ARC sets); larger ones are read row by row from the shards.
  static constexpr int64_t kDefaultInMemoryBytes = int64_t{256} << 20;

  // dirs: dataset directories (trm-convert --output); several are concatenated group-wise and
  // must share seq_len, vocab_size, pad/ignore/blank ids. split: "train" or "test".
  PuzzleDataset(const std::vector<std::string>& dirs, const std::string& split,
                int64_t max_in_memory_bytes = kDefaultInMemoryBytes);
  PuzzleDataset(const std::string& dir, const std::string& split,
                int64_t max_in_memory_bytes = kDefaultInMemoryBytes)
      : PuzzleDataset(std::vector<std::string>{dir}, split, max_in_memory_bytes) {}
  ~PuzzleDataset();
  PuzzleDataset(const PuzzleDataset&) = delete;
  PuzzleDataset& operator=(const PuzzleDataset&) = delete;

  // Merged metadata: counts summed over datasets, num_puzzle_identifiers the maximum.
  const DatasetMetadata& metadata() const { return metadata_; }
  const std::string& split() const { return split_; }
  const std::vector<std::string>& dirs() const { return dirs_; }

  int64_t num_examples() const { return puzzle_indices_.back(); }
  int64_t num_puzzles() const { return static_cast<int64_t>(puzzle_identifiers_.size()); }
  int64_t num_groups() const { return static_cast<int64_t>(group_indices_.size()) - 1; }
  // Global index arrays (DESIGN §3): example offsets per puzzle [P+1], puzzle offsets per
  // group [G+1], identifier per puzzle [P].
  const std::vector<int64_t>& puzzle_indices() const { return puzzle_indices_; }
  const std::vector<int64_t>& group_indices() const { return group_indices_; }
  const std::vector<int32_t>& puzzle_identifiers() const { return puzzle_identifiers_; }
  // Puzzle that holds a global example row (binary search).
  int64_t puzzle_of_example(int64_t row) const;

  // Reads rows (global example indices, any order, repeats allowed) into int32 buffers of
  // n * seq_len values each. Labels are raw stored tokens (no ignore mapping).
  void read_examples(const int64_t* rows, int64_t n, int32_t* inputs, int32_t* labels) const;

 private:
  struct Shard;
  std::vector<std::string> dirs_;
  std::string split_;
  DatasetMetadata metadata_;
  std::vector<int64_t> puzzle_indices_;
  std::vector<int64_t> group_indices_;
  std::vector<int32_t> puzzle_identifiers_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<int64_t> shard_first_example_;  // [num_shards + 1], global row offsets
};

// identifiers.json beside the splits: index -> "name" or "name|||t<k>|||<perm>", index 0 (and
// any unused index) "<blank>". Several dirs are merged index-wise (a clash is an error).
std::vector<std::string> read_identifiers(const std::vector<std::string>& dirs);
std::vector<std::string> read_identifiers(const std::string& dir);

// test_puzzles.json beside the splits: the original (un-augmented) puzzles whose test pairs
// form the test split, in the Kaggle/ARC layout {"<id>": {"train": [...], "test": [...]}}.
std::string test_puzzles_path(const std::string& dir);

}  // namespace trm
