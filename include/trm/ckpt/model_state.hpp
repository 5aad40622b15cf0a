// How a model's tensors map onto checkpoint groups, and loading them back. Names are the
// model's state-dict names ("inner.L_level.layers.0.mlp.gate_up_proj.weight"), which are the
// reference's names without its "_orig_mod.model." prefix.
//   /model       every parameter and buffer except the puzzle-embedding table
//   /puzzle_emb  the table "inner.puzzle_emb.weights" (absent when puzzle_emb_ndim == 0)
//   /ema         EMA of the trained dense parameters (named_parameters), when ema = true
// Evaluation and --init-from use the EMA weights when the file has them (as the reference's
// saved checkpoints hold the EMA copy), the raw weights otherwise.
#pragma once

#include <torch/torch.h>

#include <ostream>
#include <string>

#include "trm/ckpt/checkpoint_file.hpp"

namespace trm {

constexpr const char* kPuzzleEmbTableName = "inner.puzzle_emb.weights";

// Parameters and buffers of `module` by full name (detached, same device; not copied).
TensorMap module_tensors(const torch::nn::Module& module);

// Fills content.tensors["model"] and ["puzzle_emb"] from `model` (CPU copies).
void add_model_to_checkpoint(CheckpointContent& content, const torch::nn::Module& model);

// Copies `tensors` into the same-named parameters/buffers of `module` (in place, keeping the
// module's device and dtype). Every name of the module must be present with the same shape and
// no extra names may appear; otherwise trm::Error lists the missing, unexpected and mismatched
// names (at most a few of each) and names `source`.
void load_module_tensors(torch::nn::Module& module, const TensorMap& tensors,
                         const std::string& source);

// The weights to evaluate or fine-tune from: /model with the parameters of /ema laid over it
// when `prefer_ema` and the file has /ema, plus /puzzle_emb. One TensorMap with every name.
TensorMap checkpoint_weights(const CheckpointContent& content, bool prefer_ema,
                             const std::string& source);

// Exact restore for --resume: /model and /puzzle_emb into `model` (strict).
void load_model_from_checkpoint(torch::nn::Module& model, const CheckpointContent& content,
                                const std::string& source);

// --init-from / trm-eval: reads `path` (model, ema, puzzle_emb groups only) and loads
// checkpoint_weights(prefer_ema) into `model`. Like the reference's load_checkpoint, a puzzle
// table with a different number of rows is replaced by the mean of its rows, repeated (logged on
// `log`); a different embedding width is an error. Everything else must match exactly.
void init_model_from_checkpoint(torch::nn::Module& model, const std::string& path,
                                bool prefer_ema, std::ostream& log);

}  // namespace trm
