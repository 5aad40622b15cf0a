// Private: the steps the Sudoku and Maze converters share. Both build a "simple" dataset — train
// and test splits, one group per original puzzle (it and its augmentations), every example with
// puzzle identifier 0 (<blank>) — from generated puzzles, distinct across both splits so that
// held-out ones are never trained on, or from CSV files with an optional training subsample.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "trm/common/error.hpp"
#include "trm/data/dataset_metadata.hpp"
#include "trm/data/dataset_writer.hpp"
#include "trm/data/progress.hpp"
#include "trm/data/rng.hpp"
#include "trm/data/sudoku.hpp"

namespace trm {

// Calls make() until num_train + num_test puzzles with distinct key(puzzle) are found; the first
// num_train go to *train, the rest to *test. When duplicates keep coming it throws
// "unsolvable generated spec: <too_few> for <total>" with the hint.
template <typename Puzzle, typename Make, typename Key>
void generate_distinct_puzzles(int64_t num_train, int64_t num_test, bool progress, const Make& make,
                               const Key& key, const std::string& too_few, const std::string& hint,
                               std::vector<Puzzle>* train, std::vector<Puzzle>* test) {
  std::unordered_set<std::string> seen;
  const int64_t total = num_train + num_test;
  int64_t misses = 0;
  ProgressBar bar("generate", total, progress);
  while (static_cast<int64_t>(train->size() + test->size()) < total) {
    Puzzle p = make();
    if (!seen.insert(key(p)).second) {
      TRM_CHECK(++misses < 1000 + 10 * total, "unsolvable generated spec: " << too_few << " for " << total, hint);
      continue;
    }
    (static_cast<int64_t>(train->size()) < num_train ? *train : *test).push_back(std::move(p));
    bar.update(static_cast<int64_t>(train->size() + test->size()));
  }
  bar.finish();
}

// Keeps a random subset of `count` puzzles without replacement, in random order
// (np.random.choice, replace=False); count < 0 or >= size keeps all, in file order.
template <typename Puzzle>
void subsample_puzzles(int64_t count, Rng* rng, std::vector<Puzzle>* puzzles) {
  if (count < 0 || count >= static_cast<int64_t>(puzzles->size())) return;
  for (int64_t k = 0; k < count; ++k) {
    const int64_t j = k + static_cast<int64_t>(rng->below(puzzles->size() - k));
    std::swap((*puzzles)[k], (*puzzles)[j]);
  }
  puzzles->resize(static_cast<size_t>(count));
}

struct EncodedExample {
  std::vector<uint8_t> inputs;  // [seq_len] tokens
  std::vector<uint8_t> labels;  // [seq_len] tokens
};

// One split of a simple dataset: num_groups originals; examples(i) encodes group i's examples
// (the original and its augmentations). Called once per group, in order.
struct SimpleSplit {
  size_t num_groups = 0;
  std::function<std::vector<EncodedExample>(size_t group)> examples;
};

// Writes both splits to writer_options.output_dir with the single <blank> identifier, showing a
// progress bar labelled base.kind, and commits.
SimpleConvertReport write_simple_dataset(const DatasetMetadata& base, const DatasetWriterOptions& writer_options,
                                         int threads, bool progress, const SimpleSplit& train,
                                         const SimpleSplit& test);

}  // namespace trm
