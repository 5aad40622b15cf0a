// train_step_flops: the matrix-product count behind the benchmarks' TFLOP/s figures, checked
// against a hand count for a small attention TRM and against how the schedule options change it.
#include <gtest/gtest.h>

#include "trm/model/step_flops.hpp"

namespace trm {
namespace {

// h 8, 2 heads, expansion 4 (SwiGLU inner width 256), seq 9 + 2 puzzle rows = 11 positions,
// vocab 6, batch 3, H_cycles 2 x (L_cycles 2 + 1) = 6 calls of 2 layers, the last 3 with grad.
ArchConfig small_attention() {
  ArchConfig a;
  a.hidden_size = 8;
  a.num_heads = 2;
  a.H_cycles = 2;
  a.L_cycles = 2;
  a.L_layers = 2;
  a.puzzle_emb_len = 2;
  a.no_ACT_continue = true;
  return a;
}
const DataShape kShape{9, 6, 5};
// Per block on 33 rows: projections 2*33*4*64 = 16896, scores and values 4*33*11*8 = 11616,
// SwiGLU 2*33*3*256*8 = 405504; heads 2*3*8*(9*6 + 2) = 2688.
const double kBlock = 16896 + 11616 + 405504;
const double kHeads = 2688;

TEST(ModelFlops, HandCountOfASmallAttentionModel) {
  const StepFlops f = train_step_flops(small_attention(), kShape, 3);
  EXPECT_DOUBLE_EQ(f.forward, 6 * 2 * kBlock + kHeads);
  EXPECT_DOUBLE_EQ(f.backward, 2 * (3 * 2 * kBlock + kHeads));
  EXPECT_DOUBLE_EQ(f.total(), f.forward + f.backward);
}

TEST(ModelFlops, TokenMixingMlpReplacesAttention) {
  ArchConfig a = small_attention();
  a.mlp_t = true;
  // SwiGLU over 11 positions: inner width 256; 2 * (8 * 3 rows) * 3 * 256 * 11 = 405504.
  const double block = 405504 + 405504;
  EXPECT_DOUBLE_EQ(train_step_flops(a, kShape, 3).forward, 6 * 2 * block + kHeads);
}

TEST(ModelFlops, OneStepGradientAndTheQTargetChangeWhatIsCounted) {
  const StepFlops full = train_step_flops(small_attention(), kShape, 3);
  ArchConfig one_step = small_attention();
  one_step.gradient = GradientMode::kOneStep;
  const StepFlops o = train_step_flops(one_step, kShape, 3);
  EXPECT_DOUBLE_EQ(o.forward, full.forward);
  EXPECT_DOUBLE_EQ(o.backward, 2 * (2 * 2 * kBlock + kHeads));  // the last z and y update

  ArchConfig with_target = small_attention();
  with_target.no_ACT_continue = false;  // one more no-grad recursion and heads
  const StepFlops t = train_step_flops(with_target, kShape, 3);
  EXPECT_DOUBLE_EQ(t.forward, 2 * full.forward);
  EXPECT_DOUBLE_EQ(t.backward, full.backward);
  // Twice the batch, twice the work.
  EXPECT_DOUBLE_EQ(train_step_flops(small_attention(), kShape, 6).total(), 2 * full.total());
}

}  // namespace
}  // namespace trm
