// ArcEvaluator (see arc_evaluator.hpp).
#include "trm/eval/arc_evaluator.hpp"

#include "trm/common/error.hpp"
#include "trm/data/puzzle_dataset.hpp"
#include "trm/eval/arc_crop.hpp"

namespace trm {

std::vector<std::string> dataset_identifier_names(const std::vector<std::string>& dirs) {
  return read_identifiers(dirs);
}

ArcTestPuzzles arc_test_puzzles_from(const std::vector<ArcPuzzle>& puzzles) {
  ArcTestPuzzles out;
  for (const auto& p : puzzles) {
    std::vector<ArcTestPair> pairs;
    for (const auto& ex : p.test) {
      ArcTestPair pair;
      pair.input = ex.input;
      pair.has_output = ex.has_output;
      pair.output = ex.output;
      pairs.push_back(std::move(pair));
    }
    TRM_CHECK(out.emplace(p.id, std::move(pairs)).second,
              "test puzzle '" << p.id << "' appears twice",
              "rebuild the dataset with trm-convert");
  }
  return out;
}

ArcEvaluator::ArcEvaluator(std::vector<std::string> identifier_names,
                           ArcTestPuzzles test_puzzles, int64_t blank_identifier_id,
                           ArcVoteOptions options)
    : identifier_names_(std::move(identifier_names)),
      test_puzzles_(std::move(test_puzzles)),
      blank_identifier_id_(blank_identifier_id),
      options_(std::move(options)) {}

ArcEvaluator ArcEvaluator::from_dataset(const std::vector<std::string>& dirs,
                                        int64_t blank_identifier_id, ArcVoteOptions options) {
  TRM_CHECK(!dirs.empty(), "ARC evaluation without a dataset directory",
            "pass the test dataset directory");
  ArcTestPuzzles puzzles;
  for (const auto& dir : dirs) {
    for (auto& [id, pairs] : arc_test_puzzles_from(load_test_puzzles(dir))) {
      TRM_CHECK(puzzles.emplace(id, pairs).second,
                "test puzzle '" << id << "' is in two datasets (second: " << dir << ")",
                "evaluate datasets with disjoint test puzzles");
    }
  }
  return ArcEvaluator(read_identifiers(dirs), std::move(puzzles), blank_identifier_id,
                      std::move(options));
}

void ArcEvaluator::add_batch(int64_t rows, const int32_t* puzzle_identifiers,
                             const int32_t* inputs, const int64_t* preds,
                             const float* q_halt_logits, const int64_t* example_indices) {
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t id = puzzle_identifiers[i];
    if (id == blank_identifier_id_) continue;
    TRM_CHECK(id >= 0 && id < static_cast<int64_t>(identifier_names_.size()),
              "puzzle identifier " << id << " of test row " << example_indices[i]
                                   << " has no name (" << identifier_names_.size()
                                   << " identifiers)",
              "evaluate with the identifiers.json of the dataset the batch came from");
    TRM_CHECK(example_indices[i] >= 0,
              "test row with identifier " << id << " has no example index",
              "padding rows must carry the blank identifier");
    local_.add(identifier_names_[id], crop_arc_tokens(inputs + i * kArcCanvasCells),
               crop_arc_tokens(preds + i * kArcCanvasCells), q_halt_logits[i],
               static_cast<uint64_t>(example_indices[i]));
  }
}

std::optional<ArcVoteResult> ArcEvaluator::finish(const GatherBytesFn& gather) const {
  const std::vector<std::vector<uint8_t>> all = gather(local_.serialize());
  if (all.empty()) return std::nullopt;
  ArcPredictionSet merged;
  for (size_t r = 0; r < all.size(); ++r) {
    merged.merge(ArcPredictionSet::deserialize(all[r], "rank " + std::to_string(r)));
  }
  return vote_arc_predictions(merged, test_puzzles_, options_);
}

}  // namespace trm
