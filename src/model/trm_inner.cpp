// TrmInner (see trm/model/trm_inner.hpp).
#include "trm/model/trm_inner.hpp"

#include <cmath>
#include <string>

#include "trm/common/error.hpp"
#include "trm/model/latent_recursion.hpp"

namespace trm {

torch::ScalarType resolve_forward_dtype(ForwardDtype dtype, const torch::Device& device) {
  switch (dtype) {
    case ForwardDtype::kFloat32: return torch::kFloat32;
    case ForwardDtype::kBFloat16: return torch::kBFloat16;
    case ForwardDtype::kAuto: break;
  }
  return device.is_cuda() ? torch::kBFloat16 : torch::kFloat32;
}

int64_t resolved_puzzle_emb_len(const ArchConfig& arch) {
  const int64_t ndim = arch.resolved_puzzle_emb_ndim();
  // Without a puzzle embedding nothing is prepended (the reference would fail on a non-zero
  // puzzle_emb_len here; treating it as 0 is the only consistent reading).
  if (ndim == 0) return 0;
  if (arch.puzzle_emb_len == 0) return (ndim + arch.hidden_size - 1) / arch.hidden_size;
  return arch.puzzle_emb_len;
}

TrmInnerImpl::TrmInnerImpl(const ArchConfig& arch, const DataShape& shape,
                           torch::ScalarType forward_dtype)
    : arch_(arch),
      seq_len_(shape.seq_len),
      puzzle_emb_len_(resolved_puzzle_emb_len(arch)),
      forward_dtype_(forward_dtype),
      embed_scale_(std::sqrt(static_cast<double>(arch.hidden_size))) {
  const int64_t hidden = arch.hidden_size;
  const int64_t ndim = arch.resolved_puzzle_emb_ndim();
  TRM_CHECK(shape.seq_len > 0 && shape.vocab_size > 0,
            "model data shape has seq_len " << shape.seq_len << ", vocab_size "
                                            << shape.vocab_size,
            "take seq_len and vocab_size from the dataset metadata");
  // Attention uses head_dim = hidden // num_heads, as the reference (whose transformer baseline
  // runs 12 heads of 42 on hidden 512); RoPE rotates pairs, so head_dim must be even with it.
  const bool attends = !arch.mlp_t;
  TRM_CHECK(hidden > 0 && arch.num_heads > 0 && (!attends || hidden >= arch.num_heads),
            "arch.hidden_size " << hidden << " is smaller than arch.num_heads " << arch.num_heads,
            "choose num_heads <= hidden_size");
  TRM_CHECK(!attends || arch.pos_encodings != PosEncoding::kRope ||
                (hidden / arch.num_heads) % 2 == 0,
            "arch.hidden_size " << hidden << " / arch.num_heads " << arch.num_heads
                                << " gives an odd RoPE head dimension " << hidden / arch.num_heads,
            "choose num_heads so that hidden_size // num_heads is even");
  TRM_CHECK(arch.H_cycles >= 1 && arch.L_cycles >= 1 && arch.L_layers >= 1,
            "arch.H_cycles " << arch.H_cycles << ", L_cycles " << arch.L_cycles << ", L_layers "
                             << arch.L_layers << " must all be >= 1",
            "see configs/ for working values");
  TRM_CHECK(ndim <= puzzle_emb_len_ * hidden,
            "arch.puzzle_emb_ndim " << ndim << " does not fit in puzzle_emb_len "
                                    << puzzle_emb_len_ << " rows of hidden_size " << hidden,
            "raise puzzle_emb_len or set it to 0 (derived from puzzle_emb_ndim)");
  TRM_CHECK(arch.recursion != Recursion::kDirect || arch.halt_max_steps == 1,
            "arch.recursion = direct with halt_max_steps " << arch.halt_max_steps,
            "direct prediction is one supervision step: set arch.halt_max_steps = 1");
  TRM_CHECK(arch.recursion == Recursion::kTrm || arch.latents == Latents::kYZ,
            "arch.latents = single_z / multi_z applies to recursion = trm only",
            "drop arch.latents or use recursion = \"trm\"");
  TRM_CHECK(arch.latents != Latents::kMultiZ || arch.L_cycles <= kMultiZCount,
            "arch.latents = multi_z with arch.L_cycles " << arch.L_cycles
                                                         << ": z update i writes latent i of "
                                                         << kMultiZCount,
            "set L_cycles <= 6 (6 updates each latent once per cycle)");
  TRM_CHECK(ndim == 0 || shape.num_puzzle_identifiers >= 1,
            "num_puzzle_identifiers is " << shape.num_puzzle_identifiers,
            "it counts the blank identifier 0, so it is at least 1");

  // Construction order equals the reference's, so the same torch seed gives the same weights.
  const double embed_init_std = 1.0 / embed_scale_;
  embed_tokens = register_module(
      "embed_tokens", CastedEmbedding(shape.vocab_size, hidden, embed_init_std, forward_dtype));
  lm_head = register_module("lm_head", CastedLinear(hidden, shape.vocab_size, false));
  q_head = register_module("q_head", CastedLinear(hidden, 2, true));
  if (ndim > 0) {
    puzzle_emb = register_module(
        "puzzle_emb", CastedSparseEmbedding(shape.num_puzzle_identifiers, ndim, forward_dtype));
  }
  if (arch.pos_encodings == PosEncoding::kRope && !arch.mlp_t) {
    // (With mlp_t no block attends, so the tables would go unused.)
    rope_ = make_rotary_tables(hidden / arch.num_heads, num_positions(), arch.rope_theta);
  } else if (arch.pos_encodings == PosEncoding::kLearned) {
    embed_pos = register_module(
        "embed_pos", CastedEmbedding(num_positions(), hidden, embed_init_std, forward_dtype));
  }
  // HRM constructs H_level before L_level; keeping that order keeps seeded weights equal.
  if (arch.has_H_level()) {
    H_level = register_module("H_level", ReasoningModule(arch, shape, arch.resolved_H_layers()));
  }
  if (arch.has_L_level()) {
    L_level = register_module("L_level", ReasoningModule(arch, shape, arch.L_layers));
  }
  auto init_vector = [&] {
    return trunc_normal_init_(torch::empty({hidden}, torch::dtype(forward_dtype)), 1.0);
  };
  H_init = register_buffer("H_init", init_vector());
  if (arch.latents == Latents::kMultiZ) {
    // trm_hier6.py: one init vector per latent, drawn in order after H_init.
    for (int64_t k = 1; k <= kMultiZCount; ++k) {
      multi_z_init.push_back(register_buffer("L" + std::to_string(k) + "_init", init_vector()));
    }
  } else if (arch.recursion != Recursion::kTransformer) {
    L_init = register_buffer("L_init", init_vector());
  }

  // Q head starts (almost) at "do not halt": weight 0, bias -5.
  torch::NoGradGuard no_grad;
  q_head->weight.zero_();
  q_head->bias.fill_(-5.0);
}

const RotaryTables* TrmInnerImpl::rope_for(const torch::Device& device) {
  if (!rope_.cos.defined()) return nullptr;
  if (rope_.cos.device() != device) {
    rope_.cos = rope_.cos.to(device);
    rope_.sin = rope_.sin.to(device);
  }
  return &rope_;
}

torch::Tensor TrmInnerImpl::embed(const torch::Tensor& inputs, const torch::Tensor& puzzle_rows) {
  auto embedding = embed_tokens->forward(inputs);  // [batch, seq_len, hidden]
  if (puzzle_rows.defined()) {
    const int64_t hidden = arch_.hidden_size;
    auto rows = puzzle_rows;  // [batch, ndim]
    const int64_t pad = puzzle_emb_len_ * hidden - rows.size(-1);
    if (pad > 0) rows = torch::constant_pad_nd(rows, {0, pad});
    embedding = torch::cat({rows.view({-1, puzzle_emb_len_, hidden}), embedding}, 1);
  }
  if (embed_pos) {
    // 1/sqrt(2) keeps the forward variance (the reference's literal constant).
    embedding = 0.707106781 * (embedding + embed_pos->embedding_weight.to(forward_dtype_));
  }
  return embed_scale_ * embedding;
}

torch::Tensor TrmInnerImpl::input_embeddings(const torch::Tensor& inputs,
                                             const torch::Tensor& puzzle_identifiers) {
  torch::Tensor rows;
  if (puzzle_emb) rows = puzzle_emb->forward(puzzle_identifiers);
  return embed(inputs, rows);
}

torch::Tensor TrmInnerImpl::z_init() const {
  if (!multi_z_init.empty()) return torch::stack(multi_z_init).view({kMultiZCount, 1, -1});
  return L_init;
}

InnerCarry TrmInnerImpl::empty_carry(int64_t batch_size, const torch::Device& device) const {
  const std::vector<int64_t> sizes{batch_size, num_positions(), arch_.hidden_size};
  auto y = H_init.to(device).expand(sizes).clone();
  const auto zi = z_init();
  if (!zi.defined()) return InnerCarry{y, torch::zeros(sizes, y.options())};
  std::vector<int64_t> z_sizes = sizes;
  if (!multi_z_init.empty()) z_sizes.insert(z_sizes.begin() + 1, kMultiZCount);
  return InnerCarry{std::move(y), zi.to(device).expand(z_sizes).clone()};
}

InnerCarry TrmInnerImpl::reset_carry(const torch::Tensor& reset_flag,
                                     const InnerCarry& carry) const {
  const auto flag = reset_flag.view({-1, 1, 1});
  auto y = torch::where(flag, H_init, carry.y);
  const auto zi = z_init();
  if (!zi.defined()) return InnerCarry{std::move(y), carry.z};
  // One more leading 1 for the latent axis of multi_z's [batch, 6, positions, hidden].
  const auto z_flag = multi_z_init.empty() ? flag : reset_flag.view({-1, 1, 1, 1});
  return InnerCarry{std::move(y), torch::where(z_flag, zi, carry.z)};
}

InnerCarry TrmInnerImpl::latent_cycle(const InnerCarry& carry, const torch::Tensor& x) {
  TRM_CHECK(L_level && arch_.latents == Latents::kYZ,
            "TrmInner::latent_cycle is the cycle of latents = yz with an L_level",
            "use forward() for the other variants");
  const RotaryTables* rope = rope_for(x.device());
  // y is fixed during the z updates, so the injection y + x is formed once per cycle.
  const auto injection = carry.y + x;
  auto z = carry.z;
  for (int64_t i = 0; i < arch_.L_cycles; ++i) z = L_level->forward(z, injection, rope);
  auto y = L_level->forward(carry.y, z, rope);
  return InnerCarry{std::move(y), std::move(z)};
}

void TrmInnerImpl::heads(const torch::Tensor& y, InnerOutputs& out) {
  // Only the token positions feed the LM head; q_head reads the first (puzzle) position.
  out.logits = lm_head->forward(y.narrow(1, puzzle_emb_len_, seq_len_));
  const auto q = q_head->forward(y.select(1, 0)).to(torch::kFloat32);  // [batch, 2]
  out.q_halt_logits = q.select(-1, 0);
  out.q_continue_logits = q.select(-1, 1);
}

RecursionNetworks TrmInnerImpl::networks(const torch::Device& device) {
  // f_z: L_level (the transformer has none and makes no z update); f_y: H_level when present.
  return RecursionNetworks{L_level ? L_level : H_level, H_level ? H_level : L_level,
                           rope_for(device)};
}

InnerOutputs TrmInnerImpl::forward(const InnerCarry& carry, const ModelBatch& batch) {
  const auto x = input_embeddings(batch.inputs, batch.puzzle_identifiers);
  RecursionNetworks nets = networks(x.device());
  const InnerCarry c = run_latent_recursion(arch_, nets, carry, x, /*track_grad=*/true);
  InnerOutputs out;
  heads(recursion_output(arch_, c), out);
  out.carry = InnerCarry{c.y.detach(), c.z.detach()};
  return out;
}

InnerOutputs TrmInnerImpl::forward_no_grad(const InnerCarry& carry, const ModelBatch& batch) {
  torch::NoGradGuard no_grad;
  torch::Tensor rows;
  if (puzzle_emb) rows = puzzle_emb->lookup(batch.puzzle_identifiers);
  const auto x = embed(batch.inputs, rows);
  RecursionNetworks nets = networks(x.device());
  InnerCarry c = run_latent_recursion(arch_, nets, carry, x, /*track_grad=*/false);
  InnerOutputs out;
  heads(recursion_output(arch_, c), out);
  out.carry = c;
  return out;
}

}  // namespace trm
