// The GPU path of the Trainer (skipped without a CUDA device): training steps on CUDA with the
// NCCL communicator, and a checkpoint written there restored by a CPU trainer bit for bit —
// weights, puzzle table, EMA and AdamATan2 moments (docs/GPU.md, tools/gpu_check.sh).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>

#include "train_test_setup.hpp"
#include "trm/train/trainer.hpp"

namespace trm {
namespace {

void expect_equal_on_host(const torch::Tensor& a, const torch::Tensor& b, const std::string& what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  EXPECT_EQ(a.scalar_type(), b.scalar_type()) << what;
  EXPECT_TRUE(torch::equal(a.cpu(), b.cpu())) << what << " differs after CUDA -> file -> CPU";
}

TEST(TrainDevice, CheckpointWrittenOnCudaRestoresOnCpuBitForBit) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device available";
  const testing::TrainTestDir dir("test_train_device");
  const std::string convert = dir.convert_sudoku_command(
      "--generate 64 --size 4 --blanks 6 --test 16 --num-aug 1 --seed 2");
  ASSERT_EQ(std::system(convert.c_str()), 0) << convert;
  testing::test_communicator();  // starts MPI; the NCCL communicator bootstraps over it
  const torch::Device cuda(torch::kCUDA, 0);
  const std::unique_ptr<Communicator> nccl = make_communicator(cuda);

  RunContext gpu;
  gpu.device = cuda;
  gpu.comm = nccl.get();
  Trainer a(dir.tiny_config({"device=\"cuda\""}), gpu);
  for (int i = 0; i < 5; ++i) {
    const Metrics m = a.train_step();
    EXPECT_TRUE(std::isfinite(m.at("lm_loss"))) << "step " << i + 1;
  }
  const std::string path = a.save_checkpoint();
  ASSERT_FALSE(path.empty());

  RunContext cpu;
  cpu.comm = &testing::test_communicator();
  Trainer b(dir.tiny_config({"device=\"cpu\""}), cpu);
  b.restore_checkpoint(path);
  EXPECT_EQ(b.step(), 5);
  auto pa = a.model()->named_parameters(), pb = b.model()->named_parameters();
  for (const auto& item : pa) expect_equal_on_host(item.value(), pb[item.key()], item.key());
  expect_equal_on_host(a.model()->puzzle_emb()->weights, b.model()->puzzle_emb()->weights,
                       "puzzle table");
  for (size_t i = 0; i < a.ema()->shadow().size(); ++i)
    expect_equal_on_host(a.ema()->shadow()[i], b.ema()->shadow()[i], "ema " + std::to_string(i));
  for (size_t i = 0; i < a.adam()->exp_avg().size(); ++i) {
    expect_equal_on_host(a.adam()->exp_avg()[i], b.adam()->exp_avg()[i], "adam m");
    expect_equal_on_host(a.adam()->exp_avg_sq()[i], b.adam()->exp_avg_sq()[i], "adam v");
  }
  // The CPU trainer trains on from there.
  EXPECT_TRUE(std::isfinite(b.train_step().at("lm_loss")));
}

}  // namespace
}  // namespace trm
