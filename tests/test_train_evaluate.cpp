// Trainer::evaluate is the eval module's evaluate_test_split on the EMA weights: after a few steps
// (EMA rate 0.9, so the averaged and the trained weights differ) its metrics are exactly those of
// evaluate_test_split over the EMA weights, not those of the trained weights, and the trained
// weights are back in the model afterwards.
#include <gtest/gtest.h>

#include <cstdlib>

#include "train_test_setup.hpp"
#include "trm/eval/evaluate.hpp"
#include "trm/train/trainer.hpp"

namespace trm {
namespace {

TEST(TrainerEvaluate, EvaluatesTheEmaWeightsAndPutsTheTrainedOnesBack) {
  const testing::TrainTestDir dir("test_train_evaluate");
  const std::string convert =
      dir.convert_sudoku_command("--generate 64 --size 4 --blanks 6 --test 20 --num-aug 1 --seed 2");
  ASSERT_EQ(std::system(convert.c_str()), 0) << convert;
  // 20 test puzzles in global batches of 8: the last batch is padded.
  const TrainConfig config = dir.tiny_config({"eval_batch_size=8"});
  ASSERT_TRUE(config.ema);
  Communicator& comm = testing::test_communicator();
  RunContext ctx;
  ctx.comm = &comm;

  Trainer trainer(config, ctx);
  for (int i = 0; i < 6; ++i) trainer.train_step();
  std::vector<std::pair<std::string, torch::Tensor>> trained;
  for (const auto& p : trainer.model()->named_parameters()) trained.emplace_back(p.key(), p.value().clone());

  const Metrics m = trainer.evaluate();
  for (const auto& [name, value] : trained) {
    EXPECT_TRUE(torch::equal(trainer.model()->named_parameters()[name], value)) << name << " not restored";
  }

  TestSplit split({dir.data()}, 8, 0, 1);
  const ActLossHead head(config.arch.loss_type, split.info().ignore_label_id);
  trainer.ema()->swap();
  const EvalResult on_ema = evaluate_test_split(trainer.model(), head, split, comm, nullptr);
  trainer.ema()->swap();
  const EvalResult on_trained = evaluate_test_split(trainer.model(), head, split, comm, nullptr);

  EXPECT_EQ(m.size(), on_ema.metrics.size() + 1);  // + eval_seconds
  for (const auto& [k, v] : on_ema.metrics) {
    ASSERT_EQ(m.count(k), 1u) << k;
    EXPECT_EQ(m.at(k), v) << k;
  }
  EXPECT_GE(m.at("eval_seconds"), 0.0);
  EXPECT_EQ(m.at("count"), 20.0);
  EXPECT_NE(m.at("lm_loss"), on_trained.metrics.at("lm_loss"));
}

}  // namespace
}  // namespace trm
