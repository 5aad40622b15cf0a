// Learning: the in-process Trainer on generated 4x4 Sudoku (12 steps per epoch) brings the
// training loss down and the exact accuracy up over a few hundred steps, and its evaluation on the
// held-out split beats the copy-input baseline (which scores 0: every puzzle has blanks).
#include <gtest/gtest.h>

#include <cstdlib>

#include "train_test_setup.hpp"
#include "trm/train/trainer.hpp"

namespace trm {
namespace {

TEST(Learning, LossFallsAndExactAccuracyRises) {
  const testing::TrainTestDir dir("test_train_learning");
  const std::string convert =
      dir.convert_sudoku_command("--generate 400 --size 4 --blanks 8 --test 64 --num-aug 3 --seed 11");
  ASSERT_EQ(std::system(convert.c_str()), 0) << convert;

  TrainConfig config = dir.tiny_config(
      {"global_batch_size=32", "epochs=25", "lr=3e-3", "lr_warmup_steps=20", "arch.puzzle_emb_ndim=0",
       "arch.puzzle_emb_len=0", "arch.mlp_t=true", "arch.pos_encodings=none", "arch.hidden_size=64",
       "arch.L_layers=2", "ema=false", "arch.halt_exploration_prob=0.1"});
  RunContext ctx;
  ctx.comm = &testing::test_communicator();
  Trainer trainer(config, ctx);
  ASSERT_EQ(trainer.total_steps(), 312);  // int(25 * 400 * 1.0 / 32)

  auto mean_of = [](const std::vector<Metrics>& ms, size_t from, size_t to, const char* key) {
    double s = 0;
    for (size_t i = from; i < to; ++i) s += ms[i].at(key);
    return s / static_cast<double>(to - from);
  };
  std::vector<Metrics> history;
  const int steps = 300;
  for (int i = 0; i < steps; ++i) history.push_back(trainer.train_step());
  const double loss_start = mean_of(history, 0, 20, "lm_loss"), loss_end = mean_of(history, steps - 30, steps, "lm_loss");
  const double exact_start = mean_of(history, 0, 20, "exact_accuracy");
  const double exact_end = mean_of(history, steps - 30, steps, "exact_accuracy");
  EXPECT_LT(loss_end, 0.5 * loss_start) << loss_start << " -> " << loss_end;
  EXPECT_GT(exact_end, exact_start + 0.3) << exact_start << " -> " << exact_end;

  const Metrics eval = trainer.evaluate();
  EXPECT_EQ(eval.at("copy_input_exact_accuracy"), 0.0);
  EXPECT_GT(eval.at("exact_accuracy"), 0.3);
  EXPECT_EQ(eval.at("count"), 64.0);
}

}  // namespace
}  // namespace trm
