// TinyRecursiveModel: the ACT wrapper around TrmInner (the reference's
// TinyRecursiveReasoningModel_ACTV1), i.e. deep supervision. Each forward() call is one
// supervision step: samples that halted last call are reset (carry to init, steps to 0, the new
// batch's rows swapped in), one inner step runs, steps += 1, and the halting rule is applied:
// halted = steps >= halt_max_steps, and in training also q_halt > 0 (q_halt > q_continue when
// no_ACT_continue is false, and for the transformer baseline: ArchConfig::halts_on_q_continue)
// unless an exploration minimum (drawn in [2, halt_max_steps] with probability
// halt_exploration_prob from the caller's generator) is not reached yet.
// In eval (is_training() == false) every sample runs exactly halt_max_steps steps.
// The state dict is "inner.<name>" with the reference's names (see trm_inner.hpp).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <ostream>

#include "trm/config/arch_config.hpp"
#include "trm/model/model_batch.hpp"
#include "trm/model/trm_inner.hpp"

namespace trm {

// Everything that survives between supervision steps. All tensors live on the model's device.
struct ActCarry {
  InnerCarry inner;
  torch::Tensor steps;   // [batch] int32: supervision steps taken by the current sample
  torch::Tensor halted;  // [batch] bool: this sample is replaced at the next call
  ModelBatch current;    // the rows each sample is currently working on
};

struct ModelOutputs {
  torch::Tensor logits;             // [batch, seq_len, vocab] float32 (graph to the params)
  torch::Tensor q_halt_logits;      // [batch] float32
  torch::Tensor q_continue_logits;  // [batch] float32
  // [batch] float32 in [0, 1], no grad: sigmoid(is_last_step ? next_q_halt :
  // max(next_q_halt, next_q_continue)) from a second no-grad inner pass. Defined only in
  // training with no_ACT_continue == false and halt_max_steps > 1.
  torch::Tensor target_q_continue;
};

struct ActStep {
  ActCarry carry;  // the new carry: inner detached, steps/halted updated, current batch rows
  ModelOutputs outputs;
};

class TinyRecursiveModelImpl : public torch::nn::Module {
 public:
  // `device` only resolves ForwardDtype::kAuto (bfloat16 on CUDA, float32 otherwise); the
  // module is built on the CPU (so that torch::manual_seed makes the init repeatable) and the
  // caller moves it with ->to(device). Throws trm::Error on an inconsistent config.
  TinyRecursiveModelImpl(const ArchConfig& arch, const DataShape& shape,
                         torch::Device device = torch::kCPU);

  // A carry for batch.batch_size() samples, all marked halted (so the first forward() loads
  // every row of its batch); device taken from the model's parameters.
  ActCarry initial_carry(const ModelBatch& batch) const;

  // One supervision step (see the file comment). `generator` drives the exploration draws
  // (rand then randint, one [batch] tensor each) when training; nullopt uses the default
  // generator. Randomness is consumed only in training with halt_max_steps > 1.
  ActStep forward(const ActCarry& carry, const ModelBatch& batch,
                  c10::optional<at::Generator> generator = c10::nullopt);

  // The puzzle-embedding module (null holder when puzzle_emb_ndim == 0).
  CastedSparseEmbedding puzzle_emb() const { return inner->puzzle_emb; }

  const ArchConfig& arch() const { return arch_; }
  const DataShape& shape() const { return shape_; }
  torch::ScalarType forward_dtype() const { return inner->forward_dtype(); }

  TrmInner inner{nullptr};

 private:
  ArchConfig arch_;
  DataShape shape_;
};
TORCH_MODULE(TinyRecursiveModel);

// Number of elements of the trainable dense parameters (named_parameters(); the puzzle-embedding
// table is a buffer and is not counted, as in the reference's reported counts).
int64_t count_parameters(const torch::nn::Module& module);
// One line per parameter and per buffer (name, shape, dtype, elements) and the totals.
void print_parameter_summary(const torch::nn::Module& module, std::ostream& os);

}  // namespace trm
