// Tests of the TRM model as a whole: parameter counts of the paper's configurations, state-dict
// names, gradient only through the final recursion cycle, and the ACT semantics (halting on
// q_halt, exploration minimum steps, reset of halted samples, eval running halt_max_steps, the
// Q-continue path, reproducible exploration from the caller's generator).
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>
#include <sstream>
#include <string>

#include "trm/model/act_loss_head.hpp"
#include "trm/model/tiny_recursive_model.hpp"
#include "onednn_cap.hpp"
#include "tiny_model_batch.hpp"

namespace trm {
namespace {

ArchConfig paper_arch(int64_t hidden, int64_t heads, bool mlp_t) {
  ArchConfig a;
  a.hidden_size = hidden;
  a.num_heads = heads;
  a.expansion = 4.0;
  a.L_layers = 2;
  a.mlp_t = mlp_t;
  a.pos_encodings = mlp_t ? PosEncoding::kNone : PosEncoding::kRope;
  a.puzzle_emb_ndim = hidden;
  a.puzzle_emb_len = 16;
  return a;
}

TEST(ModelTrm, ParameterCountsEqualTheReference) {
  // Counts measured from the Python reference (puzzle-embedding tables excluded).
  auto count = [](const ArchConfig& arch, const DataShape& shape) {
    return count_parameters(*TinyRecursiveModel(arch, shape));
  };
  EXPECT_EQ(count(paper_arch(128, 4, true), DataShape{81, 11, 1}), 694274);     // Sudoku MLP
  EXPECT_EQ(count(paper_arch(128, 4, false), DataShape{81, 11, 1}), 527362);    // Sudoku attn
  EXPECT_EQ(count(paper_arch(128, 4, false), DataShape{900, 12, 1000}), 527618);  // ARC attn
  EXPECT_EQ(count(paper_arch(512, 8, true), DataShape{81, 11, 1}), 5028866);    // Sudoku h512
  EXPECT_EQ(count(paper_arch(64, 2, true), DataShape{16, 6, 1}), 148354);       // tiny MLP
  // Learned positions are parameters: (81 + 16) * 128 more.
  ArchConfig learned = paper_arch(128, 4, true);
  learned.pos_encodings = PosEncoding::kLearned;
  EXPECT_EQ(count(learned, DataShape{81, 11, 1}), 694274 + 97 * 128);
}

std::set<std::string> names_of(const torch::OrderedDict<std::string, torch::Tensor>& dict) {
  std::set<std::string> out;
  for (const auto& item : dict) out.insert(item.key());
  return out;
}

TEST(ModelTrm, StateDictNamesFollowTheReference) {
  TinyRecursiveModel attn(paper_arch(32, 2, false), DataShape{9, 6, 3});
  const std::set<std::string> expected_params{
      "inner.embed_tokens.embedding_weight",
      "inner.lm_head.weight",
      "inner.q_head.weight",
      "inner.q_head.bias",
      "inner.L_level.layers.0.self_attn.qkv_proj.weight",
      "inner.L_level.layers.0.self_attn.o_proj.weight",
      "inner.L_level.layers.0.mlp.gate_up_proj.weight",
      "inner.L_level.layers.0.mlp.down_proj.weight",
      "inner.L_level.layers.1.self_attn.qkv_proj.weight",
      "inner.L_level.layers.1.self_attn.o_proj.weight",
      "inner.L_level.layers.1.mlp.gate_up_proj.weight",
      "inner.L_level.layers.1.mlp.down_proj.weight"};
  EXPECT_EQ(names_of(attn->named_parameters()), expected_params);
  EXPECT_EQ(names_of(attn->named_buffers()),
            (std::set<std::string>{"inner.puzzle_emb.weights", "inner.H_init", "inner.L_init"}));
  EXPECT_EQ(attn->named_buffers()["inner.puzzle_emb.weights"].sizes(),
            torch::IntArrayRef({3, 32}));

  ArchConfig mlp = paper_arch(32, 2, true);
  mlp.pos_encodings = PosEncoding::kLearned;
  TinyRecursiveModel mlp_model(mlp, DataShape{9, 6, 3});
  const auto names = names_of(mlp_model->named_parameters());
  EXPECT_TRUE(names.count("inner.L_level.layers.1.mlp_t.gate_up_proj.weight"));
  EXPECT_TRUE(names.count("inner.L_level.layers.0.mlp_t.down_proj.weight"));
  EXPECT_TRUE(names.count("inner.embed_pos.embedding_weight"));
  EXPECT_FALSE(names.count("inner.L_level.layers.0.self_attn.qkv_proj.weight"));
  // mlp_t width is seq_len + puzzle_emb_len: [2 * 256, 9 + 16].
  const auto params = mlp_model->named_parameters();
  EXPECT_EQ(params["inner.L_level.layers.0.mlp_t.gate_up_proj.weight"].sizes(),
            torch::IntArrayRef({512, 25}));
  std::ostringstream summary;
  print_parameter_summary(*mlp_model, summary);
  EXPECT_NE(summary.str().find("inner.puzzle_emb.weights"), std::string::npos);
}

// A small config for the behavioural tests.
ArchConfig tiny_arch(bool mlp_t) {
  ArchConfig a = paper_arch(16, 2, mlp_t);
  a.H_cycles = 3;
  a.L_cycles = 2;
  a.puzzle_emb_len = 2;
  a.halt_max_steps = 4;
  a.halt_exploration_prob = 0.0;
  a.forward_dtype = ForwardDtype::kFloat32;
  return a;
}
void set_q_bias(TinyRecursiveModel& model, double halt, double cont) {
  torch::NoGradGuard no_grad;
  model->inner->q_head->bias.copy_(torch::tensor({halt, cont}));
}

// Gradients of a fixed function of the step's outputs, by parameter name.
std::map<std::string, torch::Tensor> grads_of(TinyRecursiveModel& model, const InnerOutputs& out) {
  model->zero_grad();
  torch::manual_seed(11);
  const auto w = torch::randn(out.logits.sizes());
  ((out.logits * w).sum() + out.q_halt_logits.sum() - out.q_continue_logits.sum()).backward();
  std::map<std::string, torch::Tensor> g;
  for (const auto& p : model->named_parameters()) g[p.key()] = p.value().grad().clone();
  return g;
}

TEST(ModelTrm, GradientFlowsOnlyThroughTheFinalCycle) {
  for (bool mlp_t : {false, true}) {
    ArchConfig arch = tiny_arch(mlp_t);
    torch::manual_seed(1);
    TinyRecursiveModel model(arch, kTinyShape);
    {
      torch::NoGradGuard no_grad;  // non-zero q_head so its input gradient matters
      model->inner->q_head->weight.normal_(0.0, 0.3);
      model->puzzle_emb()->weights.normal_(0.0, 0.5);
    }
    model->train();
    const auto batch = tiny_batch(3, 2);
    InnerCarry start = model->inner->empty_carry(3, torch::kCPU);
    start.y = start.y + 0.1 * torch::randn(start.y.sizes());
    start.z = start.z + 0.1 * torch::randn(start.z.sizes());

    const auto full = grads_of(model, model->inner->forward(start, batch));

    // The same step by hand: T-1 cycles without gradient, then a model with H_cycles = 1.
    InnerCarry mid = start;
    {
      torch::NoGradGuard no_grad;
      const auto x = model->inner->input_embeddings(batch.inputs, batch.puzzle_identifiers);
      for (int i = 0; i < arch.H_cycles - 1; ++i) mid = model->inner->latent_cycle(mid, x);
    }
    ArchConfig one = arch;
    one.H_cycles = 1;
    TinyRecursiveModel last(one, kTinyShape);
    {
      torch::NoGradGuard no_grad;
      auto src = model->named_parameters();
      for (auto& p : last->named_parameters()) p.value().copy_(src[p.key()]);
      auto bsrc = model->named_buffers();
      for (auto& b : last->named_buffers()) b.value().copy_(bsrc[b.key()]);
    }
    last->train();
    const auto final_only = grads_of(last, last->inner->forward(mid, batch));

    // And with gradient through every cycle, which must differ.
    InnerCarry c = start;
    const auto x = model->inner->input_embeddings(batch.inputs, batch.puzzle_identifiers);
    for (int i = 0; i < arch.H_cycles; ++i) c = model->inner->latent_cycle(c, x);
    InnerOutputs through;
    model->inner->heads(c.y, through);
    through.carry = c;
    const auto all_cycles = grads_of(model, through);

    bool any_differs = false;
    for (const auto& [name, g] : full) {
      EXPECT_TRUE(torch::allclose(g, final_only.at(name), 1e-5, 1e-6))
          << name << " mlp_t " << mlp_t;
      if (!torch::allclose(g, all_cycles.at(name), 1e-3, 1e-5)) any_differs = true;
    }
    EXPECT_TRUE(any_differs) << "backprop through all cycles should change the gradients";
  }
}

TEST(ModelTrm, TrainingHaltsWhenQHaltIsPositive) {
  torch::manual_seed(3);
  TinyRecursiveModel model(tiny_arch(false), kTinyShape);
  model->train();
  const auto batch = tiny_batch(5, 4);
  auto gen = at::detail::createCPUGenerator(5);

  set_q_bias(model, 5.0, 0.0);  // q_head weight is 0: q_halt = 5 > 0 -> halt after 1 step
  auto carry = model->initial_carry(batch);
  auto step = model->forward(carry, batch, gen);
  EXPECT_TRUE(step.carry.halted.all().item<bool>());
  EXPECT_TRUE(torch::equal(step.carry.steps, torch::ones({5}, torch::kInt32)));

  set_q_bias(model, -5.0, 0.0);  // never halts by Q: runs until halt_max_steps = 4
  carry = model->initial_carry(batch);
  for (int s = 1; s <= 4; ++s) {
    step = model->forward(carry, batch, gen);
    EXPECT_EQ(step.carry.halted.any().item<bool>(), s == 4) << "step " << s;
    EXPECT_EQ(step.carry.steps[0].item<int>(), s);
    carry = step.carry;
  }
}

TEST(ModelTrm, ExplorationEnforcesMinimumStepsAndIsReproducible) {
  ArchConfig arch = tiny_arch(true);
  arch.halt_exploration_prob = 1.0;  // every sample draws a minimum in [2, 4]
  arch.halt_max_steps = 4;
  torch::manual_seed(3);
  TinyRecursiveModel model(arch, kTinyShape);
  model->train();
  set_q_bias(model, 5.0, 0.0);  // Q says halt at once; only exploration keeps samples going
  const auto batch = tiny_batch(16, 4);

  auto halting_steps = [&](uint64_t seed) {
    auto gen = at::detail::createCPUGenerator(seed);
    auto carry = model->initial_carry(batch);
    auto halted_at = torch::zeros({16}, torch::kInt32);
    for (int s = 1; s <= 4; ++s) {
      auto step = model->forward(carry, batch, gen);
      const auto newly = step.carry.halted & (halted_at == 0);
      halted_at.masked_fill_(newly, s);
      carry = step.carry;
    }
    return halted_at;
  };
  const auto a = halting_steps(21);
  EXPECT_GE(a.min().item<int>(), 2);  // nobody halts after one step
  EXPECT_LE(a.max().item<int>(), 4);
  EXPECT_GT(a.max().item<int>(), a.min().item<int>());  // the minima really are drawn
  EXPECT_TRUE(torch::equal(a, halting_steps(21)));      // same generator seed, same schedule
}

TEST(ModelTrm, HaltedSamplesAreResetWithTheNewBatchRows) {
  torch::manual_seed(3);
  TinyRecursiveModel model(tiny_arch(false), kTinyShape);
  {
    torch::NoGradGuard no_grad;
    model->puzzle_emb()->weights.normal_(0.0, 0.5);
  }
  model->train();
  const auto first = tiny_batch(4, 4);
  const auto second = tiny_batch(4, 5);
  auto gen = at::detail::createCPUGenerator(5);
  set_q_bias(model, -5.0, 0.0);
  auto step1 = model->forward(model->initial_carry(first), first, gen);
  ASSERT_FALSE(step1.carry.halted.any().item<bool>());
  // Mark samples 1 and 3 halted by hand: they must restart on the second batch's rows.
  ActCarry carry = step1.carry;
  carry.halted = torch::tensor({false, true, false, true});
  auto step2 = model->forward(carry, second, gen);
  EXPECT_TRUE(torch::equal(step2.carry.steps, torch::tensor({2, 1, 2, 1}, torch::kInt32)));
  for (int i = 0; i < 4; ++i) {
    const auto& expected = (i % 2 == 1) ? second : first;
    EXPECT_TRUE(torch::equal(step2.carry.current.inputs[i], expected.inputs[i])) << i;
    EXPECT_TRUE(torch::equal(step2.carry.current.labels[i], expected.labels[i])) << i;
    EXPECT_TRUE(torch::equal(step2.carry.current.puzzle_identifiers[i],
                             expected.puzzle_identifiers[i])) << i;
  }
  // A reset sample starts from H_init / L_init: its outputs equal a fresh start on that row.
  auto fresh = model->forward(model->initial_carry(second), second, gen);
  EXPECT_TRUE(torch::allclose(step2.outputs.logits[1], fresh.outputs.logits[1], 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(step2.outputs.logits[3], fresh.outputs.logits[3], 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(step2.outputs.logits[0], fresh.outputs.logits[0], 1e-5, 1e-6));
}

TEST(ModelTrm, EvalAlwaysRunsHaltMaxSteps) {
  torch::manual_seed(3);
  TinyRecursiveModel model(tiny_arch(false), kTinyShape);
  set_q_bias(model, 5.0, 0.0);  // would halt at once in training
  model->eval();
  torch::NoGradGuard no_grad;
  const auto batch = tiny_batch(3, 4);
  auto carry = model->initial_carry(batch);
  ActLossHead head(LossType::kStablemaxCrossEntropy);
  int steps = 0;
  while (true) {
    auto step = model->forward(carry, batch);
    ++steps;
    const auto loss = head(step.carry, step.outputs);
    carry = step.carry;
    if (loss.all_halted.item<bool>()) {
      EXPECT_EQ(loss.metrics.count.item<double>(), 3.0);
      EXPECT_EQ(loss.metrics.steps.item<double>(), 3.0 * 4);
      break;
    }
    EXPECT_EQ(loss.metrics.count.item<double>(), 0.0);  // metrics only over halted samples
    ASSERT_LT(steps, 10);
  }
  EXPECT_EQ(steps, 4);
  EXPECT_FALSE(model->puzzle_emb()->local_weights().defined());  // eval reads the table
}

TEST(ModelTrm, QContinuePathProducesTargetAndLoss) {
  ArchConfig arch = tiny_arch(true);
  arch.no_ACT_continue = false;
  torch::manual_seed(3);
  TinyRecursiveModel model(arch, kTinyShape);
  model->train();
  const auto batch = tiny_batch(4, 4);
  auto gen = at::detail::createCPUGenerator(5);
  ActLossHead head(LossType::kSoftmaxCrossEntropy);

  set_q_bias(model, 1.0, 0.0);  // halt when q_halt > q_continue
  auto step = model->forward(model->initial_carry(batch), batch, gen);
  EXPECT_TRUE(step.carry.halted.all().item<bool>());
  ASSERT_TRUE(step.outputs.target_q_continue.defined());
  EXPECT_EQ(step.outputs.target_q_continue.sizes(), torch::IntArrayRef({4}));
  EXPECT_FALSE(step.outputs.target_q_continue.requires_grad());
  // Not the last step: target = sigmoid(max(next_q_halt, next_q_continue)) = sigmoid(1).
  EXPECT_TRUE(torch::allclose(step.outputs.target_q_continue,
                              torch::full({4}, 1.0 / (1.0 + std::exp(-1.0))), 1e-5, 1e-6));
  auto loss = head(step.carry, step.outputs);
  EXPECT_GT(loss.metrics.q_continue_loss.item<double>(), 0.0);
  loss.loss.backward();
  EXPECT_GT(model->inner->q_head->bias.grad()[1].abs().item<double>(), 0.0);
  // The recorded puzzle leaf is the loss pass's, so it received a gradient.
  ASSERT_TRUE(model->puzzle_emb()->local_weights().grad().defined());

  set_q_bias(model, 0.0, 1.0);  // continue preferred: no halt before halt_max_steps
  step = model->forward(model->initial_carry(batch), batch, gen);
  EXPECT_FALSE(step.carry.halted.any().item<bool>());
}

TEST(ModelTrm, Bfloat16ForwardKeepsFloat32Parameters) {
  TRM_SKIP_UNDER_ONEDNN_BF16_CAP();
  ArchConfig arch = tiny_arch(false);
  arch.forward_dtype = ForwardDtype::kBFloat16;
  torch::manual_seed(3);
  TinyRecursiveModel model(arch, kTinyShape);
  EXPECT_EQ(model->forward_dtype(), torch::kBFloat16);
  EXPECT_EQ(model->inner->H_init.scalar_type(), torch::kBFloat16);
  model->train();
  const auto batch = tiny_batch(2, 4);
  auto gen = at::detail::createCPUGenerator(5);
  auto step = model->forward(model->initial_carry(batch), batch, gen);
  EXPECT_EQ(step.outputs.logits.scalar_type(), torch::kFloat32);
  EXPECT_EQ(step.carry.inner.y.scalar_type(), torch::kBFloat16);
  auto loss = ActLossHead(LossType::kStablemaxCrossEntropy)(step.carry, step.outputs);
  EXPECT_TRUE(std::isfinite(loss.loss.item<double>()));
  loss.loss.backward();
  for (const auto& p : model->parameters()) {
    EXPECT_EQ(p.scalar_type(), torch::kFloat32);
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().scalar_type(), torch::kFloat32);
  }
  EXPECT_EQ(resolve_forward_dtype(ForwardDtype::kAuto, torch::Device(torch::kCPU)),
            torch::kFloat32);
  EXPECT_EQ(resolve_forward_dtype(ForwardDtype::kAuto, torch::Device(torch::kCUDA, 0)),
            torch::kBFloat16);
}

}  // namespace
}  // namespace trm
