// End to end on real ARC tasks: trm-convert builds a small augmented dataset, trm-dist trains a
// tiny TRM for a few steps, then
//   - trm-eval with 1 and with 2 MPI ranks gives the same metrics, submission.json and
//     eval_outputs.h5; the submission validates against test_puzzles.json, and so do the
//     submission_step_<k>.json files trm-dist's evaluations wrote;
//   - the saved outputs hold the test split's rows in dataset order, and voting over them again
//     reproduces trm-eval's pass@K and submission;
//   - trm-solve on one of the test tasks answers exactly what trm-eval submitted for it, and
//     refuses a puzzle the checkpoint never saw, pointing to freeze_weights.
#include <gtest/gtest.h>

#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "trm/data/json.hpp"
#include "trm/eval/arc_crop.hpp"
#include "trm/eval/arc_evaluator.hpp"
#include "trm/eval/arc_submission.hpp"
#include "trm/eval/test_split.hpp"

namespace trm {
namespace {

namespace fs = std::filesystem;

const std::string kBin = std::string(TRM_BINARY_DIR) + "/bin/";
const std::string kArc = TRM_SHARED_ARC_DIR;

int run(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <typename T>
std::vector<T> read_h5(const std::string& path, const char* name, hid_t mem_type) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(f, 0) << path;
  const hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  EXPECT_GE(d, 0) << name;
  const hid_t s = H5Dget_space(d);
  const hssize_t n = H5Sget_simple_extent_npoints(s);
  std::vector<T> v(static_cast<size_t>(n));
  EXPECT_GE(H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0);
  H5Sclose(s);
  H5Dclose(d);
  H5Fclose(f);
  return v;
}

JsonValue metrics_of(const fs::path& dir) {
  return *parse_json(read_text(dir / "eval_metrics.json"), "eval_metrics.json").find("metrics");
}

class EvalPrograms : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("trm_eval_programs_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static fs::path dir_;
};
fs::path EvalPrograms::dir_;

TEST_F(EvalPrograms, TrainEvalSolveAgree) {
  if (!fs::exists(kArc + "/arc-agi_evaluation_challenges.json")) {
    GTEST_SKIP() << "no ARC data at " << kArc;
  }
  for (const char* prog : {"trm-convert", "trm-dist", "trm-eval", "trm-solve"}) {
    ASSERT_TRUE(fs::exists(kBin + prog)) << "build " << prog << " first (cmake --build)";
  }
  const fs::path data = dir_ / "data";
  ASSERT_EQ(run(kBin + "trm-convert arc --input-prefix " + kArc + "/arc-agi --subsets training " +
                "evaluation --test-set evaluation --num-aug 6 --puzzles 007bbfb7 0d3d703e " +
                "00576224 0c786b71 --quiet --output " + data.string() + " > /dev/null"),
            0);
  const fs::path run_dir = dir_ / "run";
  std::ofstream(dir_ / "tiny.toml") << "data_paths = [\"" << data.string() << "\"]\n"
                                    << "checkpoint_path = \"" << run_dir.string() << "\"\n"
                                    << R"(global_batch_size = 8
epochs = 2
eval_interval = 2
lr = 1e-3
lr_warmup_steps = 1
ema = true
threads = 1
device = "cpu"
eval_batch_size = 4
[arch]
hidden_size = 16
num_heads = 1
expansion = 2.0
H_cycles = 1
L_cycles = 1
L_layers = 1
puzzle_emb_ndim = 16
puzzle_emb_len = 1
halt_max_steps = 2
forward_dtype = "float32"
)";
  ASSERT_EQ(run(kBin + "trm-dist --config " + (dir_ / "tiny.toml").string() + " > " +
                (dir_ / "train.log").string() + " 2>&1"),
            0)
      << read_text(dir_ / "train.log");

  const fs::path one = dir_ / "eval1", two = dir_ / "eval2";
  // Per-rank batches of 1 row in both runs, so every forward pass sees the same rows and no
  // batch is padded (padding rows add to q_halt_loss, as in the reference).
  ASSERT_EQ(run(kBin + "trm-eval --checkpoint " + run_dir.string() + " --save-outputs --output " +
                one.string() + " eval_batch_size=1 > " + (dir_ / "eval1.log").string() + " 2>&1"),
            0)
      << read_text(dir_ / "eval1.log");
  ASSERT_EQ(run("mpiexec --oversubscribe -n 2 " + kBin + "trm-eval --checkpoint " +
                run_dir.string() + " --save-outputs --output " + two.string() + " eval_batch_size=2 > " +
                (dir_ / "eval2.log").string() + " 2>&1"),
            0)
      << read_text(dir_ / "eval2.log");

  // Same results with 1 and 2 ranks: pass@K and counts exactly; the averaged loss-head metrics
  // up to the order of the float64 sums over ranks.
  const JsonValue m1 = metrics_of(one), m2 = metrics_of(two);
  ASSERT_EQ(m1.as_object().size(), m2.as_object().size());
  for (const auto& [k, v] : m1.as_object()) {
    ASSERT_NE(m2.find(k), nullptr) << k;
    if (k.rfind("ARC/", 0) == 0 || k == "count") {
      EXPECT_EQ(v.as_number(), m2.find(k)->as_number()) << k;
    } else {
      EXPECT_NEAR(v.as_number(), m2.find(k)->as_number(), 1e-9 * (1 + std::abs(v.as_number()))) << k;
    }
  }
  EXPECT_NE(m1.find("ARC/pass@1"), nullptr);
  const std::string submission = read_text(one / "submission.json");
  EXPECT_EQ(submission, read_text(two / "submission.json"));
  const std::string out1 = (one / "eval_outputs.h5").string();
  const std::string out2 = (two / "eval_outputs.h5").string();
  EXPECT_EQ(read_h5<int32_t>(out1, "preds", H5T_NATIVE_INT32),
            read_h5<int32_t>(out2, "preds", H5T_NATIVE_INT32));
  EXPECT_EQ(read_h5<float>(out1, "q_halt_logits", H5T_NATIVE_FLOAT),
            read_h5<float>(out2, "q_halt_logits", H5T_NATIVE_FLOAT));

  ArcEvaluator evaluator = ArcEvaluator::from_dataset({data.string()});
  validate_arc_submission(parse_json(submission, "submission.json"), evaluator.test_puzzles());
  // The trainer's evaluation (the same evaluate_test_split) wrote its vote as well.
  int trainer_submissions = 0;
  for (const auto& e : fs::directory_iterator(run_dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("submission_step_", 0) != 0) continue;
    ++trainer_submissions;
    validate_arc_submission(parse_json(read_text(e.path()), name), evaluator.test_puzzles());
  }
  EXPECT_GE(trainer_submissions, 1) << "trm-dist wrote no submission_step_<step>.json";

  // Saved rows are the test split in dataset order ...
  const auto inputs = read_h5<int32_t>(out1, "inputs", H5T_NATIVE_INT32);
  const auto ids = read_h5<int32_t>(out1, "puzzle_identifiers", H5T_NATIVE_INT32);
  const auto preds = read_h5<int32_t>(out1, "preds", H5T_NATIVE_INT32);
  const auto q = read_h5<float>(out1, "q_halt_logits", H5T_NATIVE_FLOAT);
  TestSplit split({data.string()}, 1, 0, 1);
  const int64_t n = split.info().num_examples;
  ASSERT_EQ(static_cast<int64_t>(ids.size()), n);
  EvalBatch b;
  for (int64_t row = 0; split.next(&b); ++row) {
    EXPECT_EQ(b.puzzle_identifiers[0].item<int32_t>(), ids[row]) << row;
    EXPECT_TRUE(std::equal(inputs.begin() + row * kArcCanvasCells,
                           inputs.begin() + (row + 1) * kArcCanvasCells,
                           b.inputs.data_ptr<int32_t>()))
        << row;
  }
  // ... and voting over them again gives trm-eval's pass@K and submission.
  std::vector<int64_t> preds64(preds.begin(), preds.end()), index(n);
  for (int64_t i = 0; i < n; ++i) index[i] = i;
  evaluator.add_batch(n, ids.data(), inputs.data(), preds64.data(), q.data(), index.data());
  const auto vote = evaluator.finish(single_process_gather());
  ASSERT_TRUE(vote.has_value());
  EXPECT_EQ(to_json(arc_submission_json(*vote)) + "\n", submission);
  const JsonValue m = metrics_of(one);
  for (const auto& [k, v] : vote->metrics()) EXPECT_DOUBLE_EQ(m.find(k)->as_number(), v) << k;
  EXPECT_EQ(m.find("count")->as_number(), static_cast<double>(n));

  // trm-solve answers a known test puzzle exactly as trm-eval submitted it.
  const JsonValue challenges =
      parse_json_file(kArc + "/arc-agi_evaluation_challenges.json");
  std::ofstream(dir_ / "0c786b71.json") << to_json(*challenges.find("0c786b71"));
  std::ofstream(dir_ / "0692e18c.json") << to_json(*challenges.find("0692e18c"));
  const fs::path answers = dir_ / "answers.json";
  ASSERT_EQ(run(kBin + "trm-solve --checkpoint " + run_dir.string() + " --task " +
                (dir_ / "0c786b71.json").string() + " --output " + answers.string() + " > " +
                (dir_ / "solve.log").string() + " 2>&1"),
            0)
      << read_text(dir_ / "solve.log");
  const JsonValue solved = parse_json(read_text(answers), "answers.json");
  EXPECT_EQ(to_json(*solved.find("0c786b71")),
            to_json(*parse_json(submission, "submission.json").find("0c786b71")));
  // A puzzle the checkpoint never trained on is refused with the fine-tuning hint.
  EXPECT_EQ(run(kBin + "trm-solve --checkpoint " + run_dir.string() + " --task " +
                (dir_ / "0692e18c.json").string() + " --output " +
                (dir_ / "never.json").string() + " > " + (dir_ / "solve2.log").string() +
                " 2>&1"),
            1);
  const std::string refusal = read_text(dir_ / "solve2.log");
  EXPECT_NE(refusal.find("0692e18c"), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("freeze_weights"), std::string::npos) << refusal;
  EXPECT_FALSE(fs::exists(dir_ / "never.json"));
}

}  // namespace
}  // namespace trm
