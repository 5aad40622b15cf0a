// Shared setup of the in-process Trainer tests: MPI started once per test process (a world of one
// without mpiexec) with its CPU communicator, and a fresh folder under the build tree into which
// build/bin/trm-convert generates a Sudoku dataset for configs/test_tiny.toml.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "trm/config/config_loader.hpp"
#include "trm/dist/communicator.hpp"

namespace trm {
namespace testing {

// This process's CPU communicator; MPI starts on the first call and ends at exit.
inline Communicator& test_communicator() {
  static int argc = 0;
  static MpiSession session(&argc, nullptr);
  static const std::unique_ptr<Communicator> comm = make_communicator(torch::kCPU);
  return *comm;
}

// <build>/<name>/, emptied: the dataset goes to data(), checkpoints to run().
class TrainTestDir {
 public:
  explicit TrainTestDir(const std::string& name) : path_(std::filesystem::path(TRM_BINARY_DIR) / name) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  std::string data() const { return (path_ / "data").string(); }
  std::string run() const { return (path_ / "run").string(); }

  // The command that writes `trm-convert sudoku <args>` to data(), quietly.
  std::string convert_sudoku_command(const std::string& args) const {
    return std::string(TRM_BINARY_DIR) + "/bin/trm-convert sudoku " + args + " --quiet --output " + data() +
           " > /dev/null 2>&1";
  }

  // configs/test_tiny.toml on data() with checkpoints in run(), then `overrides` (key=value).
  TrainConfig tiny_config(const std::vector<std::string>& overrides = {}) const {
    std::vector<std::string> all = {"data_paths=[\"" + data() + "\"]", "checkpoint_path=" + run()};
    all.insert(all.end(), overrides.begin(), overrides.end());
    return load_train_config(std::string(TRM_SOURCE_DIR) + "/configs/test_tiny.toml", all);
  }

 private:
  std::filesystem::path path_;
};

}  // namespace testing
}  // namespace trm
