// evaluate_test_split: one pass of a model over a dataset's test split on every rank (the
// reference's evaluate() in pretrain.py), used by trm-eval and the trainer. Each batch
// runs exactly halt_max_steps supervision steps (eval mode halts nowhere earlier); the loss head's
// metric sums of the final step are summed over batches and ranks and divided by the number of
// counted examples, as the reference post-processes them. For ARC datasets the de-augmented
// predictions go to an ArcEvaluator, whose vote (rank 0) adds ARC/pass@K.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "trm/dist/communicator.hpp"
#include "trm/eval/arc_evaluator.hpp"
#include "trm/eval/test_split.hpp"
#include "trm/model/act_loss_head.hpp"
#include "trm/model/tiny_recursive_model.hpp"

namespace trm {

struct EvalOptions {
  bool collect_outputs = false;  // keep every real row's tokens, preds and q (--save-outputs)
  std::ostream* log = nullptr;   // rank 0 progress lines; null: silent
};

// This rank's real rows, in the order it evaluated them (increasing example index).
struct EvalRows {
  int64_t seq_len = 0;
  std::vector<int64_t> example_indices;     // [rows]
  std::vector<int32_t> inputs;              // [rows, seq_len]
  std::vector<int32_t> labels;              // [rows, seq_len], -100 where ignored
  std::vector<int32_t> puzzle_identifiers;  // [rows]
  std::vector<int32_t> preds;               // [rows, seq_len] argmax tokens of the final step
  std::vector<float> q_halt_logits;         // [rows] of the final step

  int64_t rows() const { return static_cast<int64_t>(example_indices.size()); }
};

struct EvalResult {
  // Every rank: count, accuracy (token), exact_accuracy, q_halt_accuracy, steps, lm_loss,
  // q_halt_loss, q_continue_loss (all per counted example), copy_input_exact_accuracy (the
  // baseline of predicting the input). Rank 0 also: ARC/pass@K for ARC datasets.
  std::map<std::string, double> metrics;
  std::optional<ArcVoteResult> arc;  // rank 0, when an ArcEvaluator was given
  EvalRows rows;                     // this rank's rows when collect_outputs
  double seconds = 0.0;
};

// Collective over `comm`. `arc` may be null (Sudoku, Maze, or voting not wanted); it is
// restarted (begin()) here. The model is put in eval mode and restored to its previous mode.
EvalResult evaluate_test_split(TinyRecursiveModel& model, const ActLossHead& loss_head,
                               TestSplit& split, Communicator& comm, ArcEvaluator* arc,
                               const EvalOptions& options = {});

}  // namespace trm
