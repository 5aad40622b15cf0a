// World-size invariance of the whole trainer: trm-dist run with mpirun -np 1 and -np 2 on the same
// generated dataset and global batch, N steps each, must save the same weights, puzzle table,
// EMA and optimizer moments (within 1e-5 relative; summation order differs across ranks).
// Exploration is off in configs/test_tiny.toml: its draws are per rank (seed + rank, as the
// reference), so with exploration on the runs are statistically, not bitwise, alike.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "trm/ckpt/checkpoint_file.hpp"

namespace trm {
namespace {

const std::string kBin = std::string(TRM_BINARY_DIR) + "/bin/";

int run(const std::string& cmd) {
  return std::system((cmd + " > /dev/null 2>&1").c_str());
}

double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  const double denom = std::max(b.to(torch::kFloat64).norm().item<double>(), 1e-12);
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).norm().item<double>() / denom;
}

TEST(WorldSize, OneAndTwoRanksTrainTheSameModel) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(TRM_BINARY_DIR) / "test_train_world_size";
  fs::remove_all(dir);
  fs::create_directories(dir);
  ASSERT_EQ(run(kBin + "trm-convert sudoku --generate 96 --size 4 --blanks 6 --test 16 --num-aug 1 --seed 5 --quiet"
                " --output " + (dir / "data").string()),
            0);
  const int steps = 6;
  const std::string mpirun = "mpirun --oversubscribe --allow-run-as-root ";
  for (int np : {1, 2}) {
    const std::string cmd = mpirun + "-np " + std::to_string(np) + " " + kBin + "trm-dist --config " +
                            TRM_SOURCE_DIR + "/configs/test_tiny.toml data_paths=[\\\"" + (dir / "data").string() +
                            "\\\"] checkpoint_path=" + (dir / ("np" + std::to_string(np))).string() +
                            " max_steps=" + std::to_string(steps);
    ASSERT_EQ(run(cmd), 0) << cmd;
  }
  const std::string name = "step_000000006.h5";
  const CheckpointContent one = read_checkpoint_file((dir / "np1" / name).string());
  const CheckpointContent two = read_checkpoint_file((dir / "np2" / name).string());
  EXPECT_EQ(one.int_value("step"), steps);
  EXPECT_EQ(two.int_value("step"), steps);
  EXPECT_EQ(two.int_value("world_size"), 2);
  for (const char* group : {"model", "puzzle_emb", "ema", "optim/m", "optim/v"}) {
    ASSERT_TRUE(one.has_group(group)) << group;
    const TensorMap& a = one.group(group);
    const TensorMap& b = two.group(group);
    ASSERT_EQ(a.size(), b.size()) << group;
    for (const auto& [tensor_name, t] : a) {
      ASSERT_TRUE(b.count(tensor_name)) << group << "/" << tensor_name;
      EXPECT_LE(relative_difference(b.at(tensor_name), t), 1e-5) << group << "/" << tensor_name;
    }
  }
  // Training moved the weights and the puzzle table (the comparison is not of two fresh models).
  const torch::Tensor table = one.group("puzzle_emb").begin()->second;
  EXPECT_GT(table.abs().max().item<double>(), 0.0);
  EXPECT_GT(one.group("optim/v").begin()->second.abs().max().item<double>(), 0.0);
}

}  // namespace
}  // namespace trm
