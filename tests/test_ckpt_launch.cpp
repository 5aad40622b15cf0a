// launch/: every script parses (bash -n); the mpirun wrapper trains a tiny config with -np 2 on
// CPU; the SLURM scripts' preemption logic (requeue on exit 138/143, --resume auto, no requeue
// on a failure) is exercised with stand-in srun/scontrol commands on PATH.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "trm/ckpt/checkpoint_file.hpp"
#include "trm/ckpt/checkpoint_store.hpp"

namespace fs = std::filesystem;
using namespace trm;

namespace {

const std::string kRepo = TRM_SOURCE_DIR;
const std::string kBin = std::string(TRM_BINARY_DIR) + "/bin";

int shell(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::string& path, const std::string& text, bool executable = false) {
  std::ofstream(path) << text;
  if (executable) fs::permissions(path, fs::perms::owner_all, fs::perm_options::add);
}

class CkptLaunch : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("trm_ckpt_launch_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

}  // namespace

TEST_F(CkptLaunch, ScriptsParse) {
  int checked = 0;
  for (const auto& e : fs::directory_iterator(kRepo + "/launch")) {
    const std::string p = e.path().string();
    EXPECT_EQ(shell("bash -n " + p), 0) << p;
    ++checked;
  }
  EXPECT_GE(checked, 4);
}

TEST_F(CkptLaunch, MpirunWrapperTrainsWithTwoRanks) {
  if (!fs::exists(kBin + "/trm-dist") || !fs::exists(kBin + "/trm-convert"))
    GTEST_SKIP() << "build trm-dist and trm-convert first";
  ASSERT_EQ(shell(kBin + "/trm-convert sudoku --generate 32 --size 4 --blanks 6 --test 8 --seed 1 "
                  "--quiet --output " + dir_ + "/data > " + dir_ + "/convert.log 2>&1"),
            0)
      << read_text(dir_ + "/convert.log");
  write_text(dir_ + "/tiny.toml",
             "data_paths = [\"" + dir_ + "/data\"]\ncheckpoint_path = \"" + dir_ + "/run\"\n"
             "global_batch_size = 8\nepochs = 2\nmax_steps = 3\nlr_warmup_steps = 1\n"
             "threads = 1\ndevice = \"cpu\"\n[arch]\nhidden_size = 16\nnum_heads = 2\n"
             "expansion = 2.0\nH_cycles = 1\nL_cycles = 1\nL_layers = 1\nhalt_max_steps = 2\n"
             "puzzle_emb_ndim = 0\nforward_dtype = \"float32\"\n");
  const std::string log = dir_ + "/run.log";
  EXPECT_EQ(shell("TRM_BIN=" + kBin + " " + kRepo + "/launch/mpirun.sh -np 2 " + dir_ +
                  "/tiny.toml > " + log + " 2>&1"),
            0)
      << read_text(log);
  EXPECT_NE(read_text(log).find("trm-dist: 2 rank(s)"), std::string::npos) << read_text(log);
  std::ostringstream warnings;
  const auto latest = find_latest_valid_checkpoint(dir_ + "/run", warnings);
  ASSERT_TRUE(latest.has_value()) << read_text(log);
  EXPECT_EQ(read_checkpoint_file(*latest).int_value("step"), 3);
}

TEST_F(CkptLaunch, SlurmScriptsRequeueOnPreemptionOnly) {
  // Stand-ins: srun records its arguments and exits with $FAKE_SRUN_EXIT; scontrol records.
  const std::string stubs = dir_ + "/stubs";
  fs::create_directories(stubs);
  write_text(stubs + "/srun", "#!/bin/sh\necho \"$@\" > \"$FAKE_LOG/srun.args\"\nexit $FAKE_SRUN_EXIT\n", true);
  write_text(stubs + "/scontrol", "#!/bin/sh\necho \"$@\" >> \"$FAKE_LOG/scontrol.args\"\n", true);
  for (const std::string script : {"slurm_single_node.sbatch", "slurm_multi_node.sbatch"}) {
    for (int srun_exit : {138, 143, 1, 0}) {
      SCOPED_TRACE(script + " with srun exiting " + std::to_string(srun_exit));
      fs::remove(dir_ + "/srun.args");
      fs::remove(dir_ + "/scontrol.args");
      const std::string env = "PATH=" + stubs + ":$PATH FAKE_LOG=" + dir_ +
                              " FAKE_SRUN_EXIT=" + std::to_string(srun_exit) +
                              " SLURM_JOB_ID=4242 SLURM_SUBMIT_DIR=" + kRepo + " TRM_REPO=" + kRepo;
      const int rc = shell(env + " bash " + kRepo + "/launch/" + script +
                           " configs/arc1.toml lr=2e-4 > " + dir_ + "/out.log 2>&1");
      const std::string args = read_text(dir_ + "/srun.args");
      EXPECT_NE(args.find("trm-dist --config configs/arc1.toml --resume auto lr=2e-4"),
                std::string::npos)
          << args;
      EXPECT_NE(args.find("--kill-on-bad-exit=1"), std::string::npos) << args;
      const bool preempted = srun_exit == 138 || srun_exit == 143;
      EXPECT_EQ(rc, preempted ? 0 : srun_exit) << read_text(dir_ + "/out.log");
      if (preempted)
        EXPECT_EQ(read_text(dir_ + "/scontrol.args"), "requeue 4242\n");
      else
        EXPECT_FALSE(fs::exists(dir_ + "/scontrol.args"));
    }
    const std::string text = read_text(kRepo + "/launch/" + script);
    EXPECT_NE(text.find("#SBATCH --signal=USR1@120"), std::string::npos);
    EXPECT_NE(text.find("#SBATCH --requeue"), std::string::npos);
  }
}
