// Trainer::restore: a trainer restored from another's checkpoint content holds the same weights,
// puzzle table, EMA, optimizer moments, step and sampler position, and its next step (both
// restored from the same content, ACT carry included) gives the same parameters as the original's.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "trm/config/config_loader.hpp"
#include "trm/dist/communicator.hpp"
#include "trm/train/trainer.hpp"

namespace trm {
namespace {

TEST(Restore, RestoredTrainerContinuesIdentically) {
  namespace fs = std::filesystem;
  static int argc = 0;
  static MpiSession session(&argc, nullptr);
  auto comm = make_communicator(torch::kCPU);
  const fs::path dir = fs::path(TRM_BINARY_DIR) / "test_train_restore";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string convert = std::string(TRM_BINARY_DIR) +
                              "/bin/trm-convert sudoku --generate 64 --size 4 --blanks 6 --test 16 --num-aug 1"
                              " --seed 2 --quiet --output " + (dir / "data").string() + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(convert.c_str()), 0);
  const TrainConfig config = load_train_config(
      std::string(TRM_SOURCE_DIR) + "/configs/test_tiny.toml",
      {"data_paths=[\"" + (dir / "data").string() + "\"]", "checkpoint_path=" + (dir / "run").string()});
  RunContext ctx;
  ctx.comm = comm.get();

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
