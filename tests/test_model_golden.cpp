// Golden test against PyTorch: tools/golden/gen_model_golden.py (an independent restatement of the
// reference math) wrote weights, two batches, and the outputs, losses, metrics and gradients of two
// ACT supervision steps in training mode (exploration off) to tools/golden/model_golden.h5. This
// loads the same weights by state-dict name, replays the steps and matches within 1e-4 relative.
#include <gtest/gtest.h>

#include "golden_file.hpp"
#include "onednn_cap.hpp"

namespace trm {
namespace {

using testing::GoldenCarry;
using testing::GoldenFile;
using testing::GoldenVariant;

const char* kGoldenFile = TRM_SOURCE_DIR "/tools/golden/model_golden.h5";

GoldenVariant attn_rope() {
  GoldenVariant v{"attn_rope", {}, {}};
  v.arch.hidden_size = 8;
  v.arch.num_heads = 2;
  v.arch.H_cycles = 2;
  v.arch.L_cycles = 2;
  v.arch.L_layers = 2;
  v.arch.pos_encodings = PosEncoding::kRope;
  v.arch.puzzle_emb_ndim = 8;
  v.arch.puzzle_emb_len = 2;
  v.arch.halt_max_steps = 3;
  v.arch.halt_exploration_prob = 0.0;
  v.arch.no_ACT_continue = true;
  v.arch.forward_dtype = ForwardDtype::kFloat32;
  v.arch.loss_type = LossType::kStablemaxCrossEntropy;
  v.shape = DataShape{9, 6, 5};
  return v;
}

GoldenVariant mlpt_learned() {
  GoldenVariant v = attn_rope();
  v.name = "mlpt_learned";
  v.arch.mlp_t = true;
  v.arch.pos_encodings = PosEncoding::kLearned;
  v.arch.puzzle_emb_ndim = 16;
  v.arch.puzzle_emb_len = 0;  // derived: ceil(16 / 8) = 2
  v.arch.no_ACT_continue = false;
  v.arch.loss_type = LossType::kSoftmaxCrossEntropy;
  return v;
}

class ModelGolden : public ::testing::TestWithParam<GoldenVariant> {};

TEST(ModelGoldenInit, SeededInitDrawsTheReferenceNumbers) {
  GoldenFile f(kGoldenFile);
  ASSERT_TRUE(f.ok()) << kGoldenFile
                      << " (regenerate: /usr/bin/python3 tools/golden/gen_model_golden.py)";
  testing::expect_seeded_init_matches(f, attn_rope());
}

TEST_P(ModelGolden, TwoTrainingStepsMatchPyTorch) {
  GoldenFile f(kGoldenFile);
  ASSERT_TRUE(f.ok()) << kGoldenFile;
  testing::expect_two_training_steps_match(f, GetParam(), GoldenCarry::kY);
}

// The same steps on the GPU path (no fused CPU kernels): float32 as on CPU, bfloat16 forward
// within the documented tolerances. Skipped without a CUDA device.
TEST_P(ModelGolden, TwoTrainingStepsMatchPyTorchOnCudaFloat32) {
  TRM_SKIP_WITHOUT_CUDA();
  GoldenFile f(kGoldenFile);
  ASSERT_TRUE(f.ok()) << kGoldenFile;
  testing::expect_two_training_steps_match(f, GetParam(), GoldenCarry::kY,
                                           testing::cuda_float32_run());
}

TEST_P(ModelGolden, TwoTrainingStepsMatchPyTorchOnCudaBfloat16) {
  TRM_SKIP_WITHOUT_CUDA();
  GoldenFile f(kGoldenFile);
  ASSERT_TRUE(f.ok()) << kGoldenFile;
  testing::expect_two_training_steps_match(f, GetParam(), GoldenCarry::kY,
                                           testing::bfloat16_run(torch::Device(torch::kCUDA, 0)));
}

// The bfloat16 forward through LibTorch's CPU kernels (the plain, unfused path): the same
// tolerances as on CUDA, checked on every machine.
TEST_P(ModelGolden, TwoTrainingStepsMatchPyTorchInBfloat16OnCpu) {
  TRM_SKIP_UNDER_ONEDNN_BF16_CAP();
  GoldenFile f(kGoldenFile);
  ASSERT_TRUE(f.ok()) << kGoldenFile;
  testing::expect_two_training_steps_match(f, GetParam(), GoldenCarry::kY,
                                           testing::bfloat16_run(torch::kCPU));
}

INSTANTIATE_TEST_SUITE_P(Variants, ModelGolden, ::testing::Values(attn_rope(), mlpt_learned()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace trm
