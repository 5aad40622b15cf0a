// Inference on one ARC task with a trained model (trm-solve). TRM learns one embedding per
// augmented puzzle, so a task can be solved only under the identifiers the checkpoint was
// trained with: every identifier named "<id>" or "<id>|||t<k>|||<perm>" in identifiers.json is a
// variant; each test input is augmented as that name says, placed top-left in the 30x30 canvas
// (as the test split is built), run for halt_max_steps steps, and the de-augmented predictions
// are voted on exactly as in evaluation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trm/data/arc_puzzle.hpp"
#include "trm/eval/arc_voting.hpp"
#include "trm/model/tiny_recursive_model.hpp"

namespace trm {

struct ArcVariant {
  int32_t identifier = 0;
  std::string name;
  ArcAugmentation aug;
};

// The identifiers whose name's base is `puzzle_id`, in identifier order. Empty when the
// checkpoint's dataset never contained the puzzle.
std::vector<ArcVariant> arc_variants_of(const std::vector<std::string>& identifier_names,
                                        const std::string& puzzle_id);

// Throws trm::Error when `task.id` has no variant: the message says that the checkpoint does not
// know the puzzle and how the reference handles new puzzles (train the puzzle embeddings of a
// dataset built from the new tasks with the weights frozen, freeze_weights = true).
// `batch_size` rows per forward pass. Test inputs without outputs are fine (no pass@K then).
ArcVoteResult solve_arc_task(TinyRecursiveModel& model, const ArcPuzzle& task,
                             const std::vector<std::string>& identifier_names,
                             int64_t batch_size, const ArcVoteOptions& options = {});

// A task file: {"train": [...], "test": [{"input": ..., "output"?: ...}, ...]}; the id is
// `puzzle_id`. Grids are validated; errors name the file.
ArcPuzzle load_arc_task_file(const std::string& path, const std::string& puzzle_id);

}  // namespace trm
