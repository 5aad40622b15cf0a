// Trainer::restore: a trainer restored from another's checkpoint content holds the same weights,
// puzzle table, EMA, optimizer moments, step and sampler position, and its next step (both
// restored from the same content, ACT carry included) gives the same parameters as the original's.
#include <gtest/gtest.h>

#include <cstdlib>

#include "train_test_setup.hpp"
#include "trm/train/trainer.hpp"

namespace trm {
namespace {

TEST(Restore, RestoredTrainerContinuesIdentically) {
  const testing::TrainTestDir dir("test_train_restore");
  const std::string convert =
      dir.convert_sudoku_command("--generate 64 --size 4 --blanks 6 --test 16 --num-aug 1 --seed 2");
  ASSERT_EQ(std::system(convert.c_str()), 0) << convert;
  const TrainConfig config = dir.tiny_config();
  RunContext ctx;
  ctx.comm = &testing::test_communicator();

  Trainer a(config, ctx);
  for (int i = 0; i < 4; ++i) a.train_step();
  const CheckpointContent content = a.checkpoint_content();

  torch::manual_seed(123);  // a different state everywhere the restore must overwrite
  Trainer b(config, ctx);
  b.restore(content, "in-memory");
  EXPECT_EQ(b.step(), 4);
  EXPECT_EQ(b.adam()->step_count(), 4);
  auto pa = a.model()->named_parameters(), pb = b.model()->named_parameters();
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
  EXPECT_TRUE(torch::equal(a.model()->puzzle_emb()->weights, b.model()->puzzle_emb()->weights));

  // Put a back the same way (restore from its own content), then one more step each.
  a.restore(content, "in-memory");
  a.train_step();
  b.train_step();
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
  for (size_t i = 0; i < a.ema()->shadow().size(); ++i)
    EXPECT_TRUE(torch::equal(a.ema()->shadow()[i], b.ema()->shadow()[i]));
}

}  // namespace
}  // namespace trm
