// TrmInner: one supervision step of TRM without the ACT bookkeeping (the reference's
// TinyRecursiveReasoningModel_ACTV1_Inner). From the latent carry (y, z) and the input embedding x:
// H_cycles-1 cycles under no-grad, then one cycle with gradient, each cycle being L_cycles updates
// z = f(z, y + x) and one update y = f(y, z); logits = lm_head(y) without the puzzle positions;
// (q_halt, q_continue) = q_head(y[:, 0]) in float32. The returned carry is detached.
// The ablation variants (HRM, 1-step gradient, separate networks, single z, multi-scale z, direct
// prediction, transformer baseline; DESIGN §5b) change which calls run and with gradient: see
// latent_recursion.hpp. Parameter and buffer names equal the reference's state-dict names under
// "inner." for each variant (multi_z: H_init, L1_init..L6_init; transformer: H_level, H_init).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "trm/config/arch_config.hpp"
#include "trm/model/layers.hpp"
#include "trm/model/model_batch.hpp"
#include "trm/model/sparse_embedding.hpp"
#include "trm/model/trm_block.hpp"

namespace trm {

struct RecursionNetworks;  // latent_recursion.hpp

// The latent state carried between supervision steps, in the forward dtype.
// y is the reference's z_H (the answer), z its z_L (the reasoning latent). With latents = multi_z,
// z stacks the reference's z_L1..z_L6 on dimension 1. The transformer baseline has no z; its z
// stays zero (kept so that every variant's carry and checkpoint have the same layout).
struct InnerCarry {
  torch::Tensor y;  // [batch, puzzle_emb_len + seq_len, hidden]
  torch::Tensor z;  // [batch, puzzle_emb_len + seq_len, hidden];
                    // multi_z: [batch, kMultiZCount, puzzle_emb_len + seq_len, hidden]
};

struct InnerOutputs {
  InnerCarry carry;                 // detached
  torch::Tensor logits;             // [batch, seq_len, vocab] forward dtype
  torch::Tensor q_halt_logits;      // [batch] float32
  torch::Tensor q_continue_logits;  // [batch] float32
};

// bfloat16 for kAuto on a CUDA device, float32 otherwise.
torch::ScalarType resolve_forward_dtype(ForwardDtype dtype, const torch::Device& device);

// Number of prepended puzzle positions: puzzle_emb_len, or ceil(ndim / hidden) when it is 0.
int64_t resolved_puzzle_emb_len(const ArchConfig& arch);

class TrmInnerImpl : public torch::nn::Module {
 public:
  TrmInnerImpl(const ArchConfig& arch, const DataShape& shape, torch::ScalarType forward_dtype);

  // [batch, puzzle_emb_len + seq_len, hidden] in the forward dtype: token embedding with the
  // puzzle embedding rows prepended, + learned positions (times 1/sqrt 2) if chosen, times
  // sqrt(hidden). In training the puzzle rows come from puzzle_emb's recorded leaf.
  torch::Tensor input_embeddings(const torch::Tensor& inputs,
                                 const torch::Tensor& puzzle_identifiers);

  // Carry for `batch_size` samples filled with the init vectors (the reference leaves it
  // uninitialised; every sample is reset before its first use anyway).
  InnerCarry empty_carry(int64_t batch_size, const torch::Device& device) const;
  // y, z of the samples with reset_flag [batch] bool set back to H_init / L_init (multi_z:
  // L1_init..L6_init; transformer: z is left as it is).
  InnerCarry reset_carry(const torch::Tensor& reset_flag, const InnerCarry& carry) const;

  // One cycle of the default TRM: L_cycles times z = f(z, y + x), then y = f(y, z), with f =
  // L_level whatever the variant (latents yz only). Runs in the caller's grad mode.
  InnerCarry latent_cycle(const InnerCarry& carry, const torch::Tensor& x);
  // lm_head / q_head on y (or z for latents = single_z): fills logits and the two q-logits of
  // `out` (not its carry).
  void heads(const torch::Tensor& y, InnerOutputs& out);

  // The full step described above.
  InnerOutputs forward(const InnerCarry& carry, const ModelBatch& batch);
  // Same step, no gradient anywhere and the puzzle table read directly (nothing recorded in
  // puzzle_emb): the bootstrap pass of the Q-continue target.
  InnerOutputs forward_no_grad(const InnerCarry& carry, const ModelBatch& batch);

  int64_t puzzle_emb_len() const { return puzzle_emb_len_; }
  int64_t num_positions() const { return puzzle_emb_len_ + seq_len_; }
  torch::ScalarType forward_dtype() const { return forward_dtype_; }

  CastedEmbedding embed_tokens{nullptr};    // "embed_tokens.embedding_weight" [vocab, hidden]
  CastedLinear lm_head{nullptr};            // "lm_head.weight" [vocab, hidden]
  CastedLinear q_head{nullptr};             // "q_head.weight" [2, hidden], "q_head.bias" [2]
  CastedSparseEmbedding puzzle_emb{nullptr};  // "puzzle_emb.weights" buffer; null if ndim 0
  CastedEmbedding embed_pos{nullptr};       // "embed_pos.embedding_weight"; pos learned only
  ReasoningModule H_level{nullptr};         // "H_level.layers.<i>...."; HRM, separate, transformer
  ReasoningModule L_level{nullptr};         // "L_level.layers.<i>...."; all but transformer
  torch::Tensor H_init;                     // buffer [hidden], forward dtype: y init
  torch::Tensor L_init;                     // buffer [hidden], forward dtype: z init; yz, single_z
  std::vector<torch::Tensor> multi_z_init;  // buffers "L1_init".."L6_init" [hidden]; multi_z only

 private:
  torch::Tensor embed(const torch::Tensor& inputs, const torch::Tensor& puzzle_rows);
  const RotaryTables* rope_for(const torch::Device& device);
  RecursionNetworks networks(const torch::Device& device);
  // The z init of every variant with z latents, broadcastable to z: [hidden], or
  // [kMultiZCount, 1, hidden] for multi_z; undefined for the transformer.
  torch::Tensor z_init() const;

  ArchConfig arch_;
  int64_t seq_len_;
  int64_t puzzle_emb_len_;
  torch::ScalarType forward_dtype_;
  double embed_scale_;
  RotaryTables rope_;  // empty unless pos_encodings == rope; moved lazily to the input device
};
TORCH_MODULE(TrmInner);

}  // namespace trm
