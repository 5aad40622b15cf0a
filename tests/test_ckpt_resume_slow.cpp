// Process-level tests of checkpoints, exact resume, preemption and failures: build/bin/trm-dist
// is run (directly for np=1, through mpirun for np=2) on a tiny generated 4x4 Sudoku dataset.
//  - exact resume: 2N steps straight == N steps, SIGKILL of one rank, --resume auto, on to 2N
//    (weights, puzzle table, EMA, optimizer moments, ACT carry: bit-identical with np=1, within
//    1e-6 relative with np=2);
//  - SIGTERM to one rank / SIGUSR1 to mpirun: checkpoint + exit 128+signal on every rank;
//  - a rank that throws: every rank exits non-zero within 60 s, naming the rank;
//  - NaN injection: stop naming the step, last checkpoint intact; nan_policy = "skip" goes on.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "trm/ckpt/checkpoint_file.hpp"
#include "trm/ckpt/checkpoint_store.hpp"

namespace fs = std::filesystem;
using namespace trm;
using Clock = std::chrono::steady_clock;

extern char** environ;

namespace {

const std::string kBin = std::string(TRM_BINARY_DIR) + "/bin";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A process started with /bin/sh -c "exec CMD > LOG 2>&1"; its pid is CMD's.
struct Process {
  pid_t pid = -1;
  std::string log;
};

Process spawn(const std::string& cmd, const std::string& log) {
  Process p;
  p.log = log;
  const std::string full = "exec " + cmd + " > " + log + " 2>&1";
  const char* argv[] = {"/bin/sh", "-c", full.c_str(), nullptr};
  EXPECT_EQ(posix_spawn(&p.pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
  return p;
}

// Exit status (128+signal when killed by a signal); kills the process and returns -1 after
// `limit_s` seconds.
int wait_for(const Process& p, double limit_s, double* seconds = nullptr) {
  const auto t0 = Clock::now();
  int status = 0;
  while (true) {
    const pid_t r = waitpid(p.pid, &status, WNOHANG);
    if (r == p.pid) break;
    if (std::chrono::duration<double>(Clock::now() - t0).count() > limit_s) {
      kill(p.pid, SIGKILL);
      waitpid(p.pid, &status, 0);
      if (seconds) *seconds = limit_s;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (seconds) *seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

int run(const std::string& cmd, const std::string& log, double limit_s = 240) {
  return wait_for(spawn(cmd, log), limit_s);
}

std::string mpirun(int np) {
  return "mpirun --oversubscribe --allow-run-as-root -np " + std::to_string(np) +
         " -x OMP_NUM_THREADS=1 ";
}

// The rank `rank` child of an mpirun process (found through /proc: parent pid + the
// OMPI_COMM_WORLD_RANK in its environment); -1 when not (yet) there.
pid_t find_rank_pid(pid_t mpirun_pid, int rank) {
  const std::string want = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = read_text("/proc/" + name + "/stat");
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    fields >> state >> ppid;
    if (ppid != mpirun_pid) continue;
    std::string env = read_text("/proc/" + name + "/environ");
    for (size_t at = 0; at < env.size();) {
      const size_t end = env.find('\0', at);
      if (env.compare(at, (end == std::string::npos ? env.size() : end) - at, want) == 0)
        return pid_t(std::stoi(name));
      if (end == std::string::npos) break;
      at = end + 1;
    }
  }
  return -1;
}

int64_t count_lines_with(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) n += line.find(needle) != std::string::npos;
  return n;
}

class CkptProcess : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = (fs::temp_directory_path() / ("trm_ckpt_proc_" + std::to_string(::getpid()))).string();
    fs::remove_all(root_);
    fs::create_directories(root_);
    // 64 training puzzles (8 steps per epoch at batch 8), 16 held out.
    data_rc_ = run(kBin + "/trm-convert sudoku --generate 64 --size 4 --blanks 6 --test 16 --seed 5 "
                   "--quiet --output " + root_ + "/data",
                   root_ + "/convert.log", 120);
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  void SetUp() override {
    if (!fs::exists(kBin + "/trm-dist") || !fs::exists(kBin + "/trm-convert"))
      GTEST_SKIP() << "build trm-dist and trm-convert first";
    ASSERT_EQ(data_rc_, 0) << read_text(root_ + "/convert.log");
  }

  // A tiny config (evaluated once, after `epochs`); `extra` lines are appended.
  std::string write_config(const std::string& name, const std::string& extra,
                           int64_t epochs = 4) const {
    const std::string path = root_ + "/" + name + ".toml";
    std::ofstream out(path);
    out << "run_name = \"" << name << "\"\n"
        << "data_paths = [\"" << root_ << "/data\"]\n"
        << "checkpoint_path = \"" << root_ << "/" << name << "\"\n"
        << "global_batch_size = 8\nepochs = " << epochs << "\neval_interval = " << epochs
        << "\nlog_interval = 1000\n"
        << "lr = 0.001\nlr_warmup_steps = 2\nweight_decay = 0.1\npuzzle_emb_lr = 0.01\n"
        << "ema = true\nema_rate = 0.9\nseed = 3\nthreads = 1\ndevice = \"cpu\"\n"
        << extra << "\n"
        << "[arch]\nhidden_size = 16\nnum_heads = 2\nexpansion = 2.0\nH_cycles = 2\nL_cycles = 2\n"
        << "L_layers = 1\npos_encodings = \"rope\"\nmlp_t = false\npuzzle_emb_ndim = 16\n"
        << "puzzle_emb_len = 1\nhalt_max_steps = 4\nhalt_exploration_prob = 0.5\n"
        << "forward_dtype = \"float32\"\n";
    return path;
  }
  std::string dir(const std::string& name) const { return root_ + "/" + name; }
  std::string dist(int np, const std::string& config, const std::string& args = "") const {
    return (np == 1 ? "env OMP_NUM_THREADS=1 " : mpirun(np)) + kBin + "/trm-dist --config " +
           config + " " + args;
  }

  // Train 2N straight, and N + kill + resume to 2N; the final checkpoints must agree.
  void exact_resume(int np, int kill_rank, double rtol);

  static std::string root_;
  static int data_rc_;
};
std::string CkptProcess::root_;
int CkptProcess::data_rc_ = -1;

const int64_t kN = 6;  // checkpoint interval; 2N = 12 steps crosses an epoch boundary (8)

void expect_same_state(const CheckpointContent& a, const CheckpointContent& b, double rtol) {
  for (const char* group : {"model", "puzzle_emb", "ema", "optim/m", "optim/v", "carry"}) {
    ASSERT_TRUE(a.has_group(group) && b.has_group(group)) << group;
    const TensorMap& ta = a.group(group);
    const TensorMap& tb = b.group(group);
    ASSERT_EQ(ta.size(), tb.size()) << group;
    for (const auto& [name, t] : ta) {
      const torch::Tensor& u = tb.at(name);
      if (rtol == 0 || !t.is_floating_point()) {
        EXPECT_TRUE(torch::equal(t, u)) << group << "/" << name;
      } else {
        const double scale = std::max(t.abs().max().item<double>(), 1e-12);
        EXPECT_LE((t - u).abs().max().item<double>() / scale, rtol) << group << "/" << name;
      }
    }
  }
  for (const char* key : {"step", "optim_step", "sampler_epoch", "sampler_batch_in_epoch"})
    EXPECT_EQ(a.int_value(key), b.int_value(key)) << key;
}

void CkptProcess::exact_resume(int np, int kill_rank, double rtol) {
  const std::string tag = "np" + std::to_string(np);
  const std::string common = "max_steps = " + std::to_string(2 * kN) +
                             "\ncheckpoint_interval_steps = " + std::to_string(kN);
  const std::string straight = write_config("straight_" + tag, common);
  ASSERT_EQ(run(dist(np, straight), dir("straight_" + tag) + ".log"), 0)
      << read_text(dir("straight_" + tag) + ".log");

  // Same run name and folder for the interrupted run and its resumption.
  const std::string killed = write_config(
      "resumed_" + tag, common + "\ndebug_fail_at_step = " + std::to_string(kN + 2) +
                            "\ndebug_fail_kind = \"kill\"\ndebug_fail_rank = " +
                            std::to_string(kill_rank));
  double seconds = 0;
  const int rc = wait_for(spawn(dist(np, killed), dir("resumed_" + tag) + "_1.log"), 120, &seconds);
  EXPECT_NE(rc, 0) << read_text(dir("resumed_" + tag) + "_1.log");
  EXPECT_NE(rc, -1) << "the job did not end after a rank was killed";
  EXPECT_LT(seconds, 60);
  std::ostringstream warnings;
  const auto latest = find_latest_valid_checkpoint(dir("resumed_" + tag), warnings);
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(read_checkpoint_file(*latest).int_value("step"), kN);

  const std::string resumed = write_config("resumed_" + tag, common);
  ASSERT_EQ(run(dist(np, resumed, "--resume auto"), dir("resumed_" + tag) + "_2.log"), 0)
      << read_text(dir("resumed_" + tag) + "_2.log");
  const std::string log2 = read_text(dir("resumed_" + tag) + "_2.log");
  EXPECT_NE(log2.find("resume: " + *latest + " at step " + std::to_string(kN)), std::string::npos)
      << log2;
  EXPECT_NE(log2.find("debug_fail_at_step changed"), std::string::npos) << log2;

  const std::string last = checkpoint_file_name(2 * kN);
  expect_same_state(read_checkpoint_file(dir("straight_" + tag) + "/" + last),
                    read_checkpoint_file(dir("resumed_" + tag) + "/" + last), rtol);
}

}  // namespace

TEST_F(CkptProcess, ExactResumeSingleProcessIsBitIdentical) { exact_resume(1, 0, 0.0); }

TEST_F(CkptProcess, ExactResumeTwoRanksAfterSigkill) { exact_resume(2, 1, 1e-6); }

TEST_F(CkptProcess, SigtermOnOneRankCheckpointsAndExits143) {
  const std::string cfg = write_config("sigterm", "", 400);
  Process p = spawn(dist(2, cfg), dir("sigterm") + ".log");
  // Wait until training runs (the metrics log has a few train lines), then signal rank 1 only.
  const auto t0 = Clock::now();
  pid_t rank1 = -1;
  while (std::chrono::duration<double>(Clock::now() - t0).count() < 90) {
    if (rank1 < 0) rank1 = find_rank_pid(p.pid, 1);
    if (rank1 > 0 && count_lines_with(dir("sigterm") + "/metrics.jsonl", "\"kind\":\"train\"") >= 3)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GT(rank1, 0) << read_text(p.log);
  ASSERT_EQ(kill(rank1, SIGTERM), 0);
  double seconds = 0;
  const int rc = wait_for(p, 60, &seconds);
  const std::string log = read_text(p.log);
  EXPECT_EQ(rc, 143) << log;
  EXPECT_NE(log.find("stop: signal 15"), std::string::npos) << log;
  std::ostringstream warnings;
  const auto latest = find_latest_valid_checkpoint(dir("sigterm"), warnings);
  ASSERT_TRUE(latest.has_value()) << log;
  EXPECT_GE(read_checkpoint_file(*latest).int_value("step"), 3);
  EXPECT_TRUE(read_checkpoint_file(*latest).has_group("carry"));
}

TEST_F(CkptProcess, Sigusr1ToMpirunCheckpointsAndExits138) {
  const std::string cfg = write_config("sigusr1", "", 400);
  Process p = spawn(dist(2, cfg), dir("sigusr1") + ".log");
  const auto t0 = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - t0).count() < 90 &&
         count_lines_with(dir("sigusr1") + "/metrics.jsonl", "\"kind\":\"train\"") < 3)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(kill(p.pid, SIGUSR1), 0);  // mpirun forwards SIGUSR1 to every rank (like SLURM)
  const int rc = wait_for(p, 60);
  const std::string log = read_text(p.log);
  EXPECT_EQ(rc, 138) << log;
  EXPECT_NE(log.find("stop: signal 10"), std::string::npos) << log;
  std::ostringstream warnings;
  EXPECT_TRUE(find_latest_valid_checkpoint(dir("sigusr1"), warnings).has_value()) << log;
}

TEST_F(CkptProcess, RankThatThrowsEndsEveryRankWithin60s) {
  const std::string cfg = write_config(
      "throw", "debug_fail_at_step = 3\ndebug_fail_rank = 1", 400);
  double seconds = 0;
  const int rc = wait_for(spawn(dist(2, cfg), dir("throw") + ".log"), 120, &seconds);
  const std::string log = read_text(dir("throw") + ".log");
  EXPECT_NE(rc, 0) << log;
  EXPECT_NE(rc, -1) << "hung: " << log;
  EXPECT_LT(seconds, 60);
  EXPECT_NE(log.find("rank 1: "), std::string::npos) << log;
  EXPECT_NE(log.find("injected failure"), std::string::npos) << log;
}

TEST_F(CkptProcess, NanStopsNamingTheStepAndKeepsTheLastCheckpoint) {
  const std::string cfg = write_config(
      "nan", "checkpoint_interval_steps = 2\ndebug_nan_at_step = 5", 400);
  double seconds = 0;
  const int rc = wait_for(spawn(dist(2, cfg), dir("nan") + ".log"), 120, &seconds);
  const std::string log = read_text(dir("nan") + ".log");
  EXPECT_NE(rc, 0) << log;
  EXPECT_NE(rc, -1) << "hung: " << log;
  EXPECT_NE(log.find("non-finite loss or gradients at step 5"), std::string::npos) << log;
  std::ostringstream warnings;
  const auto latest = find_latest_valid_checkpoint(dir("nan"), warnings);
  ASSERT_TRUE(latest.has_value()) << log;
  EXPECT_TRUE(warnings.str().empty()) << warnings.str();
  const CheckpointContent c = read_checkpoint_file(*latest);
  EXPECT_EQ(c.int_value("step"), 4);
  for (const auto& [name, t] : c.group("model")) EXPECT_TRUE(torch::isfinite(t).all().item<bool>()) << name;
}

TEST_F(CkptProcess, NanPolicySkipGoesOn) {
  const std::string cfg = write_config(
      "nan_skip", "max_steps = 8\ndebug_nan_at_step = 5\nnan_policy = \"skip\"");
  const int rc = run(dist(1, cfg), dir("nan_skip") + ".log");
  const std::string log = read_text(dir("nan_skip") + ".log");
  ASSERT_EQ(rc, 0) << log;
  EXPECT_NE(log.find("non-finite loss or gradients at step 5; step skipped"), std::string::npos) << log;
  const CheckpointContent c = read_checkpoint_file(dir("nan_skip") + "/" + checkpoint_file_name(8));
  for (const auto& [name, t] : c.group("model")) EXPECT_TRUE(torch::isfinite(t).all().item<bool>()) << name;
  EXPECT_EQ(c.int_value("optim_step"), 7);  // one of the 8 updates was skipped
}

TEST_F(CkptProcess, ResumeRefusesAnotherModelShape) {
  const std::string cfg = write_config("shape", "max_steps = 2");
  ASSERT_EQ(run(dist(1, cfg), dir("shape") + ".log"), 0) << read_text(dir("shape") + ".log");
  const int rc = run(dist(1, cfg, "--resume auto arch.hidden_size=32"), dir("shape") + "_2.log");
  const std::string log = read_text(dir("shape") + "_2.log");
  EXPECT_NE(rc, 0) << log;
  EXPECT_NE(log.find("arch.hidden_size 16 -> 32"), std::string::npos) << log;
  EXPECT_NE(log.find("--init-from"), std::string::npos) << log;
  // --init-from takes the weights into the new run's first step (same shape here).
  const int rc2 = run(dist(1, cfg, "--init-from " + dir("shape") + "/" + checkpoint_file_name(2) +
                                       " max_steps=1 checkpoint_path=\\\"" + dir("shape_init") + "\\\""),
                      dir("shape") + "_3.log");
  const std::string log3 = read_text(dir("shape") + "_3.log");
  EXPECT_EQ(rc2, 0) << log3;
  EXPECT_NE(log3.find("init-from: loaded EMA weights"), std::string::npos) << log3;
}
