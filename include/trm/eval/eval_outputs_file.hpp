// --save-outputs: every test example's inputs, labels, puzzle identifier, predicted tokens and
// final q_halt logit in one HDF5 file, rows in dataset order (row i = example i of the split).
// Layout (format "trm-dist-eval-outputs", version 1):
//   /inputs [N, seq_len] int32, /labels [N, seq_len] int32 (-100 where ignored),
//   /puzzle_identifiers [N] int32, /preds [N, seq_len] int32, /q_halt_logits [N] float32;
//   root attributes format, format_version, seq_len, num_examples and (when given) kind, the
//   dataset kind ("arc", "sudoku", "maze"; files written before it lack it).
// Written collectively without gathering the rows: rank 0 creates the file under a temporary
// name, the ranks write their rows in turn (rank order), rank 0 renames it into place.
#pragma once

#include <cstdint>
#include <string>

#include "trm/dist/communicator.hpp"
#include "trm/eval/evaluate.hpp"

namespace trm {

constexpr const char* kEvalOutputsFormat = "trm-dist-eval-outputs";
constexpr int kEvalOutputsFormatVersion = 1;

// Collective. `local` holds this rank's rows (EvalResult::rows); together the ranks must cover
// example indices 0..num_examples-1 exactly once. Throws trm::Error (on every rank) otherwise or
// on an HDF5 failure.
void write_eval_outputs(const std::string& path, const EvalRows& local, int64_t num_examples,
                        Communicator& comm, const std::string& dataset_kind = "");

}  // namespace trm
