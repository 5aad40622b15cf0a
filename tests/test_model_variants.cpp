// Tests of the ablation variants (DESIGN §5b): parameter counts and names (separate networks
// double the blocks, HRM and the transformer baseline at their reference configs have ~27M,
// multi_z and the transformer carry the reference's buffers), gradients reaching exactly what each
// variant says (1-step gradient: only the last z and y call; separate networks: H_level only
// through the y updates; direct and transformer: one call; multi_z: its last cycle), checked
// against step-by-step replays with the model's own modules, the transformer's halting rule, and
// a few training steps of every variant through the ACT loss head.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <set>
#include <utility>
#include <string>
#include <vector>

#include "trm/model/act_loss_head.hpp"
#include "trm/model/latent_recursion.hpp"
#include "trm/model/tiny_recursive_model.hpp"
#include "tiny_model_batch.hpp"

namespace trm {
namespace {

// Learned positions, so replays need no RoPE tables (the blocks are the same either way).
ArchConfig tiny_arch() {
  ArchConfig a;
  a.hidden_size = 16;
  a.num_heads = 2;
  a.L_layers = 2;
  a.H_cycles = 3;
  a.L_cycles = 2;
  a.pos_encodings = PosEncoding::kLearned;
  a.puzzle_emb_ndim = 16;
  a.puzzle_emb_len = 1;
  a.halt_max_steps = 3;
  a.halt_exploration_prob = 0.0;
  a.forward_dtype = ForwardDtype::kFloat32;
  return a;
}
TinyRecursiveModel make_model(const ArchConfig& arch) {
  torch::manual_seed(1);
  TinyRecursiveModel model(arch, kTinyShape);
  torch::NoGradGuard no_grad;  // non-zero q_head and puzzle rows so every path carries signal
  model->inner->q_head->weight.normal_(0.0, 0.3);
  model->puzzle_emb()->weights.normal_(0.0, 0.5);
  model->train();
  return model;
}

InnerCarry noisy_carry(TinyRecursiveModel& model, int64_t batch) {
  InnerCarry c = model->inner->empty_carry(batch, torch::kCPU);
  torch::manual_seed(5);
  c.y = c.y + 0.1 * torch::randn(c.y.sizes());
  c.z = c.z + 0.1 * torch::randn(c.z.sizes());
  return c;
}

// Gradients of a fixed function of the heads' outputs, by parameter name (undefined -> zeros).
std::map<std::string, torch::Tensor> grads_of(TinyRecursiveModel& model, const InnerOutputs& out) {
  model->zero_grad();
  torch::manual_seed(11);
  const auto w = torch::randn(out.logits.sizes());
  ((out.logits * w).sum() + out.q_halt_logits.sum() - out.q_continue_logits.sum()).backward();
  std::map<std::string, torch::Tensor> g;
  for (const auto& p : model->named_parameters()) {
    g[p.key()] = p.value().grad().defined() ? p.value().grad().clone()
                                            : torch::zeros_like(p.value());
  }
  return g;
}

void expect_same_grads(const std::map<std::string, torch::Tensor>& a,
                       const std::map<std::string, torch::Tensor>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (const auto& [name, g] : a) {
    EXPECT_TRUE(torch::allclose(g, b.at(name), 1e-5, 1e-6)) << what << ": " << name;
  }
}

bool any_grad_differs(const std::map<std::string, torch::Tensor>& a,
                      const std::map<std::string, torch::Tensor>& b) {
  for (const auto& [name, g] : a) {
    if (!torch::allclose(g, b.at(name), 1e-3, 1e-5)) return true;
  }
  return false;
}

// The model's heads on `out_latent` as InnerOutputs.
InnerOutputs heads_on(TinyRecursiveModel& model, const torch::Tensor& out_latent) {
  InnerOutputs out;
  model->inner->heads(out_latent, out);
  return out;
}

int64_t block_parameters(const torch::nn::Module& level) { return count_parameters(level); }

TEST(ModelVariants, SeparateNetworksDoubleTheBlockParameters) {
  ArchConfig shared = tiny_arch();
  ArchConfig separate = shared;
  separate.networks = Networks::kSeparate;
  TinyRecursiveModel a(shared, kTinyShape), b(separate, kTinyShape);
  ASSERT_FALSE(a->inner->H_level);
  ASSERT_TRUE(b->inner->H_level);
  const int64_t blocks = block_parameters(*a->inner->L_level);
  EXPECT_EQ(count_parameters(*b), count_parameters(*a) + blocks);
  EXPECT_EQ(block_parameters(*b->inner->H_level), blocks);
  const auto names = b->named_parameters();
  EXPECT_TRUE(names.contains("inner.H_level.layers.1.self_attn.qkv_proj.weight"));
  EXPECT_TRUE(names.contains("inner.L_level.layers.1.mlp.down_proj.weight"));
  // one_step, single_z and direct change the schedule only, not the parameters.
  for (auto change : {+[](ArchConfig& c) { c.gradient = GradientMode::kOneStep; },
                      +[](ArchConfig& c) { c.latents = Latents::kSingleZ; },
                      +[](ArchConfig& c) { c.latents = Latents::kMultiZ; },
                      +[](ArchConfig& c) { c.recursion = Recursion::kDirect; c.halt_max_steps = 1; }}) {
    ArchConfig v = shared;
    change(v);
    EXPECT_EQ(count_parameters(*TinyRecursiveModel(v, kTinyShape)), count_parameters(*a));
  }
}

TEST(ModelVariants, HrmAtTheReferenceConfigHasAbout27MParameters) {
  // HRM reference defaults (config/arch/hrm_v1.yaml) on Sudoku (seq 81, vocab 11): hidden 512,
  // 8 heads, 4 + 4 attention blocks, puzzle_emb_len derived (1). Per block: qkv 3*512*512,
  // o 512*512, SwiGLU 2*1536*512 + 1536*512 (inner width 1365 rounded up to 1536).
  ArchConfig hrm;
  hrm.recursion = Recursion::kHrm;
  hrm.hidden_size = 512;
  hrm.num_heads = 8;
  hrm.H_layers = 4;
  hrm.L_layers = 4;
  hrm.H_cycles = 2;
  hrm.L_cycles = 2;
  hrm.puzzle_emb_len = 0;
  hrm.no_ACT_continue = false;
  hrm.forward_dtype = ForwardDtype::kFloat32;
  TinyRecursiveModel model(hrm, DataShape{81, 11, 1});
  const int64_t per_block = 4 * 512 * 512 + 3 * 1536 * 512;
  EXPECT_EQ(count_parameters(*model), 8 * per_block + 2 * 11 * 512 + 2 * 512 + 2);
  EXPECT_EQ(count_parameters(*model), 27275266);  // "27M" in the HRM and TRM papers
  EXPECT_EQ(model->inner->puzzle_emb_len(), 1);
  // H_level is constructed before L_level, as in the reference (same seed, same weights).
  EXPECT_EQ(model->named_parameters().keys()[4], "inner.H_level.layers.0.self_attn.qkv_proj.weight");
}

TEST(ModelVariants, OneStepGradientFlowsOnlyThroughTheLastZAndYUpdates) {
  ArchConfig arch = tiny_arch();
  arch.gradient = GradientMode::kOneStep;
  TinyRecursiveModel model = make_model(arch);
  const auto batch = tiny_batch(3, 2);
  const InnerCarry start = noisy_carry(model, 3);
  const auto one_step = grads_of(model, model->inner->forward(start, batch));

  // Replay: every call but the last z and y update detached, then those two with gradient.
  auto& f = model->inner->L_level;
  const auto x = model->inner->input_embeddings(batch.inputs, batch.puzzle_identifiers);
  torch::Tensor y = start.y, z = start.z;
  {
    torch::NoGradGuard no_grad;
    for (int64_t t = 0; t < arch.H_cycles; ++t) {
      for (int64_t i = 0; i < arch.L_cycles; ++i) {
        if (t + 1 == arch.H_cycles && i + 1 == arch.L_cycles) break;
        z = f->forward(z, y + x, nullptr);
      }
      if (t + 1 < arch.H_cycles) y = f->forward(y, z, nullptr);
    }
  }
  z = f->forward(z, y + x, nullptr);
  y = f->forward(y, z, nullptr);
  expect_same_grads(one_step, grads_of(model, heads_on(model, y)), "one_step vs replay");

  // The full-gradient default differs (its last cycle has L_cycles + 1 calls with gradient).
  ArchConfig full_arch = tiny_arch();
  TinyRecursiveModel full = make_model(full_arch);
  const auto full_grads = grads_of(full, full->inner->forward(start, batch));
  EXPECT_TRUE(any_grad_differs(one_step, full_grads));
  EXPECT_EQ(recursion_grad_calls(arch), 2);
  EXPECT_EQ(recursion_grad_calls(full_arch), arch.L_cycles + 1);
}

TEST(ModelVariants, SeparateNetworksGiveHLevelGradientOnlyThroughTheYUpdate) {
  ArchConfig arch = tiny_arch();
  arch.networks = Networks::kSeparate;
  TinyRecursiveModel model = make_model(arch);
  const auto batch = tiny_batch(3, 3);
  const InnerCarry start = noisy_carry(model, 3);
  const auto grads = grads_of(model, model->inner->forward(start, batch));

  // Replay: z updates by L_level, y updates by H_level; gradient through the last cycle only.
  auto& f_L = model->inner->L_level;
  auto& f_H = model->inner->H_level;
  const auto x = model->inner->input_embeddings(batch.inputs, batch.puzzle_identifiers);
  torch::Tensor y = start.y, z = start.z;
  {
    torch::NoGradGuard no_grad;
    for (int64_t t = 0; t + 1 < arch.H_cycles; ++t) {
      for (int64_t i = 0; i < arch.L_cycles; ++i) z = f_L->forward(z, y + x, nullptr);
      y = f_H->forward(y, z, nullptr);
    }
  }
  for (int64_t i = 0; i < arch.L_cycles; ++i) z = f_L->forward(z, y + x, nullptr);
  const auto y_in = y.detach().requires_grad_();
  const auto z_in = z.detach().requires_grad_();
  y = f_H->forward(y, z, nullptr);
  expect_same_grads(grads, grads_of(model, heads_on(model, y)), "separate vs replay");

  // Both networks get gradient; H_level's equals that of the final y update alone (its
  // inputs detached), i.e. nothing else in the step reaches H_level.
  double h_norm = 0.0, l_norm = 0.0;
  for (const auto& [name, g] : grads) {
    if (name.rfind("inner.H_level.", 0) == 0) h_norm += g.norm().item<double>();
    if (name.rfind("inner.L_level.", 0) == 0) l_norm += g.norm().item<double>();
  }
  EXPECT_GT(h_norm, 0.0);
  EXPECT_GT(l_norm, 0.0);
  const auto alone = grads_of(model, heads_on(model, f_H->forward(y_in, z_in, nullptr)));
  for (const auto& [name, g] : grads) {
    if (name.rfind("inner.H_level.", 0) != 0) continue;
    EXPECT_TRUE(torch::allclose(g, alone.at(name), 1e-5, 1e-6)) << name;
  }
}

TEST(ModelVariants, SingleZReadsZAndLeavesYAlone) {
  ArchConfig arch = tiny_arch();
  arch.latents = Latents::kSingleZ;
  TinyRecursiveModel model = make_model(arch);
  const auto batch = tiny_batch(2, 4);
  const InnerCarry start = noisy_carry(model, 2);
  const InnerOutputs out = model->inner->forward(start, batch);
  EXPECT_TRUE(torch::equal(out.carry.y, start.y));
  const auto grads = grads_of(model, out);

  auto& f = model->inner->L_level;
  const auto x = model->inner->input_embeddings(batch.inputs, batch.puzzle_identifiers);
  const auto zero = torch::zeros({});
  torch::Tensor z = start.z;
  {
    torch::NoGradGuard no_grad;
    for (int64_t t = 0; t + 1 < arch.H_cycles; ++t) {
      for (int64_t i = 0; i < arch.L_cycles; ++i) z = f->forward(z, x, nullptr);
      z = f->forward(z, zero, nullptr);
    }
  }
  for (int64_t i = 0; i < arch.L_cycles; ++i) z = f->forward(z, x, nullptr);
  z = f->forward(z, zero, nullptr);
  EXPECT_TRUE(torch::allclose(out.carry.z, z.detach(), 1e-5, 1e-6));
  expect_same_grads(grads, grads_of(model, heads_on(model, z)), "single_z vs replay");
}

TEST(ModelVariants, DirectPredictionIsOneCallOnTheInput) {
  ArchConfig arch = tiny_arch();
  arch.recursion = Recursion::kDirect;
  arch.halt_max_steps = 1;
  TinyRecursiveModel model = make_model(arch);
  const auto batch = tiny_batch(2, 6);
  const InnerCarry start = noisy_carry(model, 2);
  const InnerOutputs out = model->inner->forward(start, batch);
  const auto grads = grads_of(model, out);
  const auto x = model->inner->input_embeddings(batch.inputs, batch.puzzle_identifiers);
  const auto y = model->inner->L_level->forward(x, torch::zeros({}), nullptr);
  expect_same_grads(grads, grads_of(model, heads_on(model, y)), "direct vs replay");
  EXPECT_TRUE(torch::equal(out.carry.z, start.z));
  // The carry does not enter the prediction.
  const InnerOutputs again = model->inner->forward(model->inner->empty_carry(2, torch::kCPU), batch);
  EXPECT_TRUE(torch::allclose(again.logits, out.logits));
}

std::set<std::string> buffer_names(const torch::nn::Module& m) {
  std::set<std::string> names;
  for (const auto& b : m.named_buffers()) names.insert(b.key());
  return names;
}

TEST(ModelVariants, MultiZHasTheReferenceInitBuffersDrawnInOrder) {
  ArchConfig yz = tiny_arch();
  ArchConfig multi = yz;
  multi.latents = Latents::kMultiZ;
  torch::manual_seed(4);
  TinyRecursiveModel a(yz, kTinyShape);
  torch::manual_seed(4);
  TinyRecursiveModel b(multi, kTinyShape);
  // trm_hier6.py: H_init then L1_init..L6_init, no L_init; the parameters are TRM's.
  EXPECT_EQ(buffer_names(*b),
            (std::set<std::string>{"inner.puzzle_emb.weights", "inner.H_init", "inner.L1_init",
                                      "inner.L2_init", "inner.L3_init", "inner.L4_init",
                                      "inner.L5_init", "inner.L6_init"}));
  EXPECT_EQ(count_parameters(*b), count_parameters(*a));
  // Same seed, same draws: the weights and H_init equal TRM's, and L1_init takes the draw that
  // TRM's L_init takes (the next one); the six init vectors differ.
  EXPECT_TRUE(torch::equal(a->inner->L_level->layers[0]->parameters()[0],
                           b->inner->L_level->layers[0]->parameters()[0]));
  EXPECT_TRUE(torch::equal(a->inner->H_init, b->inner->H_init));
  ASSERT_EQ(b->inner->multi_z_init.size(), 6u);
  EXPECT_TRUE(torch::equal(a->inner->L_init, b->inner->multi_z_init[0]));
  EXPECT_FALSE(torch::equal(b->inner->multi_z_init[0], b->inner->multi_z_init[5]));

  // The carry: y [batch, positions, hidden], z the six latents [batch, 6, positions, hidden];
  // resetting a row puts every latent k back to L<k>_init and leaves the other rows alone.
  const int64_t positions = b->inner->num_positions();
  const InnerCarry empty = b->inner->empty_carry(3, torch::kCPU);
  ASSERT_EQ(empty.z.sizes(), (std::vector<int64_t>{3, 6, positions, multi.hidden_size}));
  torch::manual_seed(9);
  const InnerCarry noisy{torch::randn(empty.y.sizes()), torch::randn(empty.z.sizes())};
  const InnerCarry reset =
      b->inner->reset_carry(torch::tensor({false, true, false}), noisy);
  for (int64_t k = 0; k < 6; ++k) {
    EXPECT_TRUE(torch::equal(empty.z[0][k][positions - 1], b->inner->multi_z_init[k]));
    EXPECT_TRUE(torch::equal(reset.z[1][k][0], b->inner->multi_z_init[k])) << k;
    EXPECT_TRUE(torch::equal(reset.z[0][k], noisy.z[0][k])) << k;
  }
  EXPECT_TRUE(torch::equal(reset.y[1][0], b->inner->H_init));
  EXPECT_TRUE(torch::equal(reset.y[2], noisy.y[2]));
}

// The multi-z schedule replayed with the model's L_level: H_cycles - 1 cycles under no-grad,
// then one with gradient; in a cycle z_i = f(z_1 + ... + z_6, y + x) for i < L_cycles, then
// y = f(y, z_1 + ... + z_6). Returns (y, the six latents).
std::pair<torch::Tensor, std::vector<torch::Tensor>> replay_multi_z(
    TinyRecursiveModel& model, const ArchConfig& arch, const InnerCarry& start,
    const torch::Tensor& x) {
  auto& f = model->inner->L_level;
  torch::Tensor y = start.y;
  std::vector<torch::Tensor> z = start.z.unbind(1);
  auto sum = [&z] { return z[0] + z[1] + z[2] + z[3] + z[4] + z[5]; };
  auto cycle = [&] {
    for (int64_t i = 0; i < arch.L_cycles; ++i) z[i] = f->forward(sum(), y + x, nullptr);
    y = f->forward(y, sum(), nullptr);
  };
  {
    torch::NoGradGuard no_grad;
    for (int64_t t = 0; t + 1 < arch.H_cycles; ++t) cycle();
  }
  cycle();
  return {y, z};
}

TEST(ModelVariants, MultiZUpdatesLatentIFromTheSumOfAllSixAndReadsY) {
  ArchConfig arch = tiny_arch();
  arch.latents = Latents::kMultiZ;
  arch.H_cycles = 2;
  arch.L_cycles = 6;  // the reference's n: every latent is written once per cycle
  TinyRecursiveModel model = make_model(arch);
  const auto batch = tiny_batch(3, 12);
  const InnerCarry start = noisy_carry(model, 3);
  ASSERT_EQ(start.z.size(1), 6);
  const InnerOutputs out = model->inner->forward(start, batch);
  const auto grads = grads_of(model, out);

  const auto x = model->inner->input_embeddings(batch.inputs, batch.puzzle_identifiers);
  auto [y, z] = replay_multi_z(model, arch, start, x);
  EXPECT_TRUE(torch::allclose(out.carry.y, y.detach(), 1e-5, 1e-6));
  for (int64_t k = 0; k < 6; ++k) {
    EXPECT_TRUE(torch::allclose(out.carry.z.select(1, k), z[k].detach(), 1e-5, 1e-6)) << k;
  }
  // The heads read y, and the gradient is that of the last cycle's 7 calls.
  expect_same_grads(grads, grads_of(model, heads_on(model, y)), "multi_z vs replay");
  EXPECT_EQ(recursion_calls(arch), 2 * 7);
  EXPECT_EQ(recursion_grad_calls(arch), 7);

  // A replay that updated a single z (latents yz) from the same start differs: the sum matters.
  ArchConfig yz = arch;
  yz.latents = Latents::kYZ;
  TinyRecursiveModel plain = make_model(yz);
  const InnerOutputs plain_out =
      plain->inner->forward(InnerCarry{start.y, start.z.select(1, 0)}, batch);
  EXPECT_FALSE(torch::allclose(plain_out.logits, out.logits, 1e-3, 1e-5));
}

TEST(ModelVariants, MultiZWithFewerZUpdatesLeavesTheLaterLatentsAlone) {
  // With L_cycles = n < 6 only z_1..z_n are written (the reference indexes z_L[n] the same way);
  // the others keep their carried values and still enter every sum.
  ArchConfig arch = tiny_arch();
  arch.latents = Latents::kMultiZ;
  arch.L_cycles = 2;
  TinyRecursiveModel model = make_model(arch);
  const auto batch = tiny_batch(2, 13);
  const InnerCarry start = noisy_carry(model, 2);
  const InnerOutputs out = model->inner->forward(start, batch);
  for (int64_t k = 2; k < 6; ++k) {
    EXPECT_TRUE(torch::equal(out.carry.z.select(1, k), start.z.select(1, k))) << k;
  }
  for (int64_t k = 0; k < 2; ++k) {
    EXPECT_FALSE(torch::allclose(out.carry.z.select(1, k), start.z.select(1, k))) << k;
  }
  const auto x = model->inner->input_embeddings(batch.inputs, batch.puzzle_identifiers);
  auto [y, z] = replay_multi_z(model, arch, start, x);
  expect_same_grads(grads_of(model, out), grads_of(model, heads_on(model, y)),
                    "multi_z n=2 vs replay");
}

TEST(ModelVariants, TransformerIsOneHLevelCallOnTheCarriedAnswer) {
  ArchConfig arch = tiny_arch();
  arch.recursion = Recursion::kTransformer;
  arch.H_layers = 3;
  TinyRecursiveModel model = make_model(arch);
  // transformers_baseline.py: H_level (H_layers blocks) and H_init only; no L_level, no L_init.
  ASSERT_TRUE(model->inner->H_level);
  ASSERT_FALSE(model->inner->L_level);
  EXPECT_EQ(buffer_names(*model),
            (std::set<std::string>{"inner.puzzle_emb.weights", "inner.H_init"}));
  for (const auto& p : model->named_parameters()) {
    EXPECT_EQ(p.key().find("L_level"), std::string::npos) << p.key();
  }
  EXPECT_EQ(model->inner->H_level->layers->size(), 3u);
  EXPECT_EQ(count_parameters(*model),
            count_parameters(*TinyRecursiveModel(tiny_arch(), kTinyShape)) +
                count_parameters(*model->inner->H_level) / 3);  // 3 blocks instead of 2

  const auto batch = tiny_batch(2, 14);
  const InnerCarry start = noisy_carry(model, 2);
  const InnerOutputs out = model->inner->forward(start, batch);
  const auto x = model->inner->input_embeddings(batch.inputs, batch.puzzle_identifiers);
  const auto y = model->inner->H_level->forward(start.y, x, nullptr);
  EXPECT_TRUE(torch::allclose(out.carry.y, y.detach(), 1e-5, 1e-6));
  expect_same_grads(grads_of(model, out), grads_of(model, heads_on(model, y)),
                    "transformer vs replay");
  EXPECT_TRUE(torch::equal(out.carry.z, start.z));
  EXPECT_EQ(recursion_calls(arch), 1);
  EXPECT_EQ(recursion_grad_calls(arch), 1);
  // Unlike direct prediction, the carried answer enters the step; the empty carry's z is zero.
  const InnerCarry empty = model->inner->empty_carry(2, torch::kCPU);
  EXPECT_EQ(empty.z.abs().sum().item<double>(), 0.0);
  EXPECT_FALSE(torch::allclose(model->inner->forward(empty, batch).logits, out.logits, 1e-3, 1e-5));
}

TEST(ModelVariants, TransformerAtTheReferenceConfigHasAbout27MParameters) {
  // config/arch/transformers_baseline.yaml on Sudoku (seq 81, vocab 11): hidden 512, 12 heads of
  // head_dim 512 // 12 = 42 (attention width 504), 8 blocks, puzzle_emb_len derived (1). Per
  // block: qkv 3*504*512, o 512*504, SwiGLU 3*1536*512.
  ArchConfig t;
  t.recursion = Recursion::kTransformer;
  t.hidden_size = 512;
  t.num_heads = 12;
  t.H_layers = 8;
  t.H_cycles = 1;
  t.L_cycles = 1;
  t.puzzle_emb_len = 0;
  t.forward_dtype = ForwardDtype::kFloat32;
  TinyRecursiveModel model(t, DataShape{81, 11, 1});
  const int64_t per_block = 4 * 504 * 512 + 3 * 1536 * 512;
  EXPECT_EQ(count_parameters(*model), 8 * per_block + 2 * 11 * 512 + 2 * 512 + 2);
  EXPECT_EQ(count_parameters(*model), 27144194);
  EXPECT_EQ(model->inner->puzzle_emb_len(), 1);
  const auto params = model->named_parameters();
  EXPECT_EQ(params["inner.H_level.layers.7.self_attn.qkv_proj.weight"].sizes(),
            (std::vector<int64_t>{3 * 504, 512}));
  EXPECT_EQ(params["inner.H_level.layers.7.self_attn.o_proj.weight"].sizes(),
            (std::vector<int64_t>{512, 504}));
  // The 504-wide attention runs (RoPE on head_dim 42) and keeps the shapes.
  const auto i32 = torch::TensorOptions().dtype(torch::kInt32);
  const ModelBatch batch{torch::ones({1, 81}, i32), torch::ones({1, 81}, i32),
                         torch::zeros({1}, i32)};
  const InnerOutputs out = model->inner->forward_no_grad(model->inner->empty_carry(1, torch::kCPU), batch);
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{1, 81, 11}));
  EXPECT_TRUE(torch::isfinite(out.logits).all().item<bool>());
}

TEST(ModelVariants, TransformerHaltsOnQHaltAboveQContinueWithoutATarget) {
  // Model_ACTV2 halts a training sample when q_halt > q_continue; the reference's loss head never
  // asks it for the Q-continue target, so with no_ACT_continue = true there is none.
  ArchConfig arch = tiny_arch();
  arch.recursion = Recursion::kTransformer;
  arch.halt_max_steps = 5;
  TinyRecursiveModel model = make_model(arch);
  {
    torch::NoGradGuard no_grad;  // both logits near 0, so q_halt > 0 and q_halt > q_continue differ
    model->inner->q_head->bias.zero_();
  }
  const auto batch = tiny_batch(32, 15);
  at::Generator gen = at::detail::createCPUGenerator(3);
  const ActStep step = model->forward(model->initial_carry(batch), batch, gen);
  const auto& o = step.outputs;
  EXPECT_FALSE(o.target_q_continue.defined());
  const auto expected = o.q_halt_logits > o.q_continue_logits;
  EXPECT_TRUE(torch::equal(step.carry.halted, expected));
  // Not vacuous: some samples halt and some do not, and TRM's rule would decide some otherwise.
  EXPECT_GT(expected.sum().item<int64_t>(), 0);
  EXPECT_LT(expected.sum().item<int64_t>(), 32);
  EXPECT_FALSE(torch::equal(expected, o.q_halt_logits > 0));

  // With no_ACT_continue = false the same rule trains q_continue on the bootstrapped target.
  arch.no_ACT_continue = false;
  TinyRecursiveModel q = make_model(arch);
  const ActStep q_step = q->forward(q->initial_carry(batch), batch, gen);
  ASSERT_TRUE(q_step.outputs.target_q_continue.defined());
  EXPECT_TRUE(torch::equal(q_step.carry.halted,
                           q_step.outputs.q_halt_logits > q_step.outputs.q_continue_logits));
  // In eval every sample runs halt_max_steps steps.
  model->eval();
  EXPECT_FALSE(model->forward(model->initial_carry(batch), batch).carry.halted.any().item<bool>());
}

struct NamedArch {
  std::string name;
  ArchConfig arch;
};
void PrintTo(const NamedArch& v, std::ostream* os) { *os << v.name; }

std::vector<NamedArch> all_variants() {
  std::vector<NamedArch> v;
  v.push_back({"trm", tiny_arch()});
  v.push_back({"one_step", tiny_arch()});
  v.back().arch.gradient = GradientMode::kOneStep;
  v.push_back({"separate", tiny_arch()});
  v.back().arch.networks = Networks::kSeparate;
  v.push_back({"single_z", tiny_arch()});
  v.back().arch.latents = Latents::kSingleZ;
  v.push_back({"q_continue", tiny_arch()});
  v.back().arch.no_ACT_continue = false;
  v.push_back({"hrm", tiny_arch()});
  v.back().arch.recursion = Recursion::kHrm;
  v.back().arch.H_layers = 1;
  v.back().arch.H_cycles = 2;
  v.back().arch.no_ACT_continue = false;
  v.push_back({"direct", tiny_arch()});
  v.back().arch.recursion = Recursion::kDirect;
  v.back().arch.halt_max_steps = 1;
  v.push_back({"multi_z", tiny_arch()});
  v.back().arch.latents = Latents::kMultiZ;
  v.push_back({"transformer", tiny_arch()});
  v.back().arch.recursion = Recursion::kTransformer;
  v.back().arch.H_layers = 2;
  return v;
}

class TrainVariant : public ::testing::TestWithParam<NamedArch> {};

// A few Adam steps on one repeated batch through the ACT wrapper and loss head: every parameter
// receives a finite, non-zero gradient at every step, and the loss falls.
TEST_P(TrainVariant, TrainsAFewStepsWithGradientOnEveryParameter) {
  const NamedArch& v = GetParam();
  TinyRecursiveModel model = make_model(v.arch);
  ActLossHead head(v.arch.loss_type);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(3e-3));
  at::Generator gen = at::detail::createCPUGenerator(3);
  const auto batch = tiny_batch(8, 7);
  ActCarry carry = model->initial_carry(batch);
  double first = 0.0, last = 0.0;
  const int kSteps = 12;
  for (int step = 0; step < kSteps; ++step) {
    ActStep out = model->forward(carry, batch, gen);
    LossOutputs loss = head(out.carry, out.outputs);
    if (v.arch.no_ACT_continue) {
      EXPECT_FALSE(out.outputs.target_q_continue.defined()) << v.name;
    } else {
      ASSERT_TRUE(out.outputs.target_q_continue.defined()) << v.name;
    }
    opt.zero_grad();
    loss.loss.backward();
    for (const auto& p : model->named_parameters()) {
      const auto& g = p.value().grad();
      ASSERT_TRUE(g.defined()) << v.name << " step " << step << ": no gradient for " << p.key();
      EXPECT_TRUE(torch::isfinite(g).all().item<bool>()) << v.name << " " << p.key();
      EXPECT_GT(g.abs().sum().item<double>(), 0.0) << v.name << " step " << step << " " << p.key();
    }
    opt.step();
    const double lm = loss.metrics.lm_loss.item<double>();
    if (step == 0) first = lm;
    last = lm;
    carry = out.carry;
  }
  EXPECT_LT(last, first) << v.name;
}

INSTANTIATE_TEST_SUITE_P(Variants, TrainVariant, ::testing::ValuesIn(all_variants()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace trm
