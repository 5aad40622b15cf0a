// Golden test of HRM proper and the TRM single-z variant against PyTorch:
// tools/golden/gen_hrm_golden.py restates the HRM reference's hrm_act_v1.py math (two networks,
// 1-step gradient, Q-learning halting with the bootstrapped Q-continue target) and trm_singlez.py,
// and writes weights, two batches and the outputs, losses, metrics and gradients of two ACT
// supervision steps to tools/golden/hrm_golden.h5; this replays them within 1e-4 relative, and
// checks that the seeded construction (H_level before L_level) draws the reference's numbers.
#include <gtest/gtest.h>

#include "golden_file.hpp"
#include "onednn_cap.hpp"

namespace trm {
namespace {

using testing::GoldenCarry;
using testing::GoldenFile;
using testing::GoldenVariant;

const char* kGoldenFile = TRM_SOURCE_DIR "/tools/golden/hrm_golden.h5";

GoldenVariant hrm() {
  GoldenVariant v{"hrm", {}, {}};
  v.arch.recursion = Recursion::kHrm;
  v.arch.hidden_size = 8;
  v.arch.num_heads = 2;
  v.arch.H_layers = 2;
  v.arch.L_layers = 1;
  v.arch.H_cycles = 2;
  v.arch.L_cycles = 3;
  v.arch.pos_encodings = PosEncoding::kRope;
  v.arch.puzzle_emb_ndim = 8;
  v.arch.puzzle_emb_len = 0;  // HRM derives it: ceil(8 / 8) = 1
  v.arch.halt_max_steps = 3;
  v.arch.halt_exploration_prob = 0.0;
  v.arch.no_ACT_continue = false;  // HRM's Q-learning halting
  v.arch.forward_dtype = ForwardDtype::kFloat32;
  v.arch.loss_type = LossType::kStablemaxCrossEntropy;
  v.shape = DataShape{9, 6, 5};
  return v;
}

GoldenVariant single_z() {
  GoldenVariant v = hrm();
  v.name = "single_z";
  v.arch.recursion = Recursion::kTrm;
  v.arch.latents = Latents::kSingleZ;
  v.arch.H_layers = 0;
  v.arch.L_layers = 2;
  v.arch.H_cycles = 2;
  v.arch.L_cycles = 2;
  v.arch.puzzle_emb_len = 2;
  v.arch.no_ACT_continue = true;
  return v;
}

class HrmGolden : public ::testing::TestWithParam<GoldenVariant> {};

TEST_P(HrmGolden, SeededInitDrawsTheReferenceNumbers) {
  GoldenFile f(kGoldenFile);
  ASSERT_TRUE(f.ok()) << kGoldenFile
                      << " (regenerate: /usr/bin/python3 tools/golden/gen_hrm_golden.py)";
  testing::expect_seeded_init_matches(f, GetParam());
}

TEST_P(HrmGolden, TwoTrainingStepsMatchPyTorch) {
  GoldenFile f(kGoldenFile);
  ASSERT_TRUE(f.ok()) << kGoldenFile;
  testing::expect_two_training_steps_match(f, GetParam(), GoldenCarry::kYAndZ);
}

// The same steps on the GPU path (no fused CPU kernels): float32 as on CPU, bfloat16 forward
// within the documented tolerances. Skipped without a CUDA device.
TEST_P(HrmGolden, TwoTrainingStepsMatchPyTorchOnCudaFloat32) {
  TRM_SKIP_WITHOUT_CUDA();
  GoldenFile f(kGoldenFile);
  ASSERT_TRUE(f.ok()) << kGoldenFile;
  testing::expect_two_training_steps_match(f, GetParam(), GoldenCarry::kYAndZ,
                                           testing::cuda_float32_run());
}

TEST_P(HrmGolden, TwoTrainingStepsMatchPyTorchOnCudaBfloat16) {
  TRM_SKIP_WITHOUT_CUDA();
  GoldenFile f(kGoldenFile);
  ASSERT_TRUE(f.ok()) << kGoldenFile;
  testing::expect_two_training_steps_match(f, GetParam(), GoldenCarry::kYAndZ,
                                           testing::bfloat16_run(torch::Device(torch::kCUDA, 0)));
}

// The bfloat16 forward through LibTorch's CPU kernels (the plain, unfused path): the same
// tolerances as on CUDA, checked on every machine.
TEST_P(HrmGolden, TwoTrainingStepsMatchPyTorchInBfloat16OnCpu) {
  TRM_SKIP_UNDER_ONEDNN_BF16_CAP();
  GoldenFile f(kGoldenFile);
  ASSERT_TRUE(f.ok()) << kGoldenFile;
  testing::expect_two_training_steps_match(f, GetParam(), GoldenCarry::kYAndZ,
                                           testing::bfloat16_run(torch::kCPU));
}

INSTANTIATE_TEST_SUITE_P(Variants, HrmGolden, ::testing::Values(hrm(), single_z()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace trm
