// trm-report's inputs: metrics.jsonl with malformed, null, resumed and incomplete lines;
// arc_votes.json read back and refused when damaged; eval_outputs.h5 sampled (accuracies over
// every row, failed rows first); a folder with nothing in it; the page names what is missing.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "trm/common/error.hpp"
#include "trm/report/arc_votes_reader.hpp"
#include "trm/report/eval_outputs_reader.hpp"
#include "trm/report/metrics_log.hpp"
#include "trm/report/report_page.hpp"
#include "trm/report/run_data.hpp"

namespace fs = std::filesystem;

namespace trm {
namespace {

class ReportInputs : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("trm_report_inputs_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  fs::path dir_;
};

const char* kVotes = R"({"format":"trm-dist-arc-votes","format_version":1,"step":7,
 "pass_at_k":{"2":0.5,"1":0.5},"num_scored_puzzles":2,"num_records":4,"num_unmatched_records":0,
 "puzzles":[{"id":"a","tests":[{"input":[[1,2]],"output":[[3]],"num_votes":3,"num_candidates":2,
   "label_rank":0,"top":[{"grid":[[3]],"votes":2,"mean_q":0.75},{"grid":[[4]],"votes":1,"mean_q":0.5}]}]},
  {"id":"b","tests":[{"input":[[0]],"output":[[5,5]],"num_votes":1,"num_candidates":1,
   "label_rank":-1,"top":[{"grid":[],"votes":1,"mean_q":0.1}]}]}]})";

TEST_F(ReportInputs, MetricsLogSkipsAndNamesMalformedLines) {
  const std::string path =
      write("run/metrics.jsonl",
            "{\"kind\":\"train\",\"step\":1,\"epoch\":0,\"lm_loss\":2.5,\"lr\":null}\n"
            "\n"
            "{\"kind\":\"train\",\"step\":2,\"lm_loss\":2.0\n"  // line 3: broken
            "[1,2]\n"
            "{\"kind\":\"eval\",\"step\":2,\"exact_accuracy\":0.25}\n"
            "{\"kind\":\"train\",\"step\":2,\"lm_loss\":1.5,\"note\":\"x\"}\n"
            "{\"kind\":\"train\",\"step\":1,\"lm_loss\":2.25}\n"  // resumed: replaces step 1
            "{\"kind\":\"train\",\"step\":3,\"lm_lo");            // killed mid-line
  const MetricsLog log = read_metrics_log(path);
  EXPECT_TRUE(log.found);
  EXPECT_EQ(log.records.size(), 4u);
  ASSERT_EQ(log.problems.size(), 4u);
  EXPECT_EQ(log.problems[0].rfind(path + ":3: not valid JSON", 0), 0u) << log.problems[0];
  EXPECT_EQ(log.problems[1], path + ":4: not a JSON object");
  EXPECT_EQ(log.problems[2], path + ":6: ignored non-numeric value(s) of note");
  EXPECT_EQ(log.problems[3].rfind(path + ":8: the last line is incomplete", 0), 0u)
      << log.problems[3];
  const auto loss = log.series("train", "lm_loss");
  EXPECT_EQ(loss.steps, (std::vector<double>{1, 2}));
  EXPECT_EQ(loss.values, (std::vector<double>{2.25, 1.5}));
  EXPECT_TRUE(std::isnan(log.series("train", "lr").values.at(0)));
  EXPECT_FALSE(log.has("train", "lr"));
  EXPECT_TRUE(log.has("eval", "exact_accuracy"));
  ASSERT_NE(log.last("eval"), nullptr);
  EXPECT_EQ(log.last("eval")->line, 5);

  const MetricsLog missing = read_metrics_log((dir_ / "none.jsonl").string());
  EXPECT_FALSE(missing.found);
  EXPECT_TRUE(missing.records.empty());
}

TEST_F(ReportInputs, ArcVotesReadBackAndDamageIsNamed) {
  const ArcVotes v = read_arc_votes(write("votes.json", kVotes));
  EXPECT_EQ(v.step, 7);
  ASSERT_EQ(v.pass_at_k.size(), 2u);
  EXPECT_EQ(v.pass_at_k[0].first, 1);
  ASSERT_EQ(v.puzzles.size(), 2u);
  const ArcTestView& a = v.puzzles[0].tests.at(0);
  EXPECT_EQ(a.input.cols, 2);
  EXPECT_EQ(a.top.at(0).votes, 2);
  EXPECT_DOUBLE_EQ(a.top.at(1).mean_q, 0.5);
  EXPECT_DOUBLE_EQ(v.puzzles[0].solved_fraction(1), 1.0);
  EXPECT_DOUBLE_EQ(v.puzzles[1].solved_fraction(2), 0.0);
  EXPECT_EQ(v.puzzles[1].tests[0].top[0].grid.rows, 0);  // an empty crop

  std::string bad_colour = kVotes;
  bad_colour.replace(bad_colour.find("[[1,2]]"), 7, "[[1,12]]");
  try {
    read_arc_votes(write("bad.json", bad_colour));
    FAIL() << "a colour 12 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("puzzle 'a' test 0 input"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_arc_votes(write("trunc.json", std::string(kVotes).substr(0, 100))), Error);
  EXPECT_THROW(read_arc_votes(write("other.json", "{\"format\":\"x\"}")), Error);
  EXPECT_THROW(read_arc_votes((dir_ / "absent.json").string()), Error);
}

// A tiny eval_outputs.h5 in the layout trm-eval writes (eval_outputs_file.hpp).
void write_outputs(const std::string& path, const std::vector<std::vector<int32_t>>& labels,
                   const std::vector<std::vector<int32_t>>& preds, int64_t seq_len) {
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hsize_t dims[2] = {labels.size(), static_cast<hsize_t>(seq_len)};
  auto put = [&](const char* name, const std::vector<std::vector<int32_t>>& rows) {
    std::vector<int32_t> flat;
    for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t ds =
        H5Dcreate2(f, name, H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, flat.data());
    H5Dclose(ds);
    H5Sclose(space);
  };
  put("inputs", labels);
  put("labels", labels);
  put("preds", preds);
  auto attr_i64 = [&](const char* name, int64_t v) {
    const hid_t s = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(f, name, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT64, &v);
    H5Aclose(a);
    H5Sclose(s);
  };
  auto attr_str = [&](const char* name, const std::string& v) {
    const hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, v.size());
    const hid_t s = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(f, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, v.data());
    H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
  };
  attr_str("format", "trm-dist-eval-outputs");
  attr_i64("format_version", 1);
  attr_i64("seq_len", seq_len);
  attr_i64("num_examples", static_cast<int64_t>(labels.size()));
  attr_str("kind", "sudoku");
  H5Fclose(f);
}

TEST_F(ReportInputs, EvalOutputsSampleCountsEveryRowAndPrefersFailures) {
  const std::string path = (dir_ / "eval_outputs.h5").string();
  std::vector<std::vector<int32_t>> labels, preds;
  for (int i = 0; i < 10; ++i) {
    labels.push_back({2, 3, 4, 5});
    preds.push_back({2, 3, 4, i < 3 ? 2 : 5});  // rows 0..2 have one wrong token
  }
  labels.push_back({-100, -100, -100, -100});  // a row without valid labels is not counted
  preds.push_back({0, 0, 0, 0});
  write_outputs(path, labels, preds, 4);
  const EvalOutputsSample s = read_eval_outputs_sample(path, 4);
  EXPECT_EQ(s.kind, "sudoku");
  EXPECT_EQ(s.num_examples, 11);
  EXPECT_EQ(s.num_counted, 10);
  EXPECT_EQ(s.num_exact, 7);
  EXPECT_EQ(s.num_tokens, 40);
  EXPECT_EQ(s.num_tokens_correct, 37);
  ASSERT_EQ(s.rows.size(), 4u);  // two failed, two solved, by index
  EXPECT_EQ(s.rows[0].index, 0);
  EXPECT_FALSE(s.rows[1].exact);
  EXPECT_EQ(s.rows[2].index, 3);
  EXPECT_TRUE(s.rows[3].exact);
  EXPECT_THROW(read_eval_outputs_sample(write("x.h5", "not hdf5"), 4), Error);
}

TEST_F(ReportInputs, EmptyFolderHasNothingToReportAndSaysWhy) {
  fs::create_directories(dir_ / "empty");
  const RunData empty = collect_run_data((dir_ / "empty").string());
  EXPECT_FALSE(empty.has_content());
  ASSERT_EQ(empty.notes.size(), 2u);
  EXPECT_NE(empty.notes[0].find("no " + (dir_ / "empty" / "metrics.jsonl").string()),
            std::string::npos);
  EXPECT_NE(empty.notes[1].find("trm-eval --checkpoint"), std::string::npos);
  const RunData absent = collect_run_data((dir_ / "absent").string());
  EXPECT_FALSE(absent.has_content());
  EXPECT_NE(absent.notes.at(0).find("does not exist"), std::string::npos);
}

TEST_F(ReportInputs, PartialRunGivesAPageThatSaysWhatIsMissing) {
  write("run/metrics.jsonl",
        "{\"kind\":\"train\",\"step\":1,\"lm_loss\":2.5,\"lr\":1e-4}\n"
        "{\"kind\":\"train\",\"step\":2,\"lm_loss\":2.0,\"lr\":1e-4}\n{\"kind\":");
  write("run/arc_votes_step_2.json", kVotes);
  write("run/arc_votes_step_10.json",
        std::string(kVotes).replace(std::string(kVotes).find("\"step\":7"), 8, "\"step\":10"));
  std::vector<RunData> runs = {collect_run_data((dir_ / "run").string())};
  ASSERT_TRUE(runs[0].has_content());
  ASSERT_TRUE(runs[0].arc.has_value());
  EXPECT_EQ(runs[0].arc->step, 10);  // the trainer's newest vote
  const std::string html = render_report_page(runs, {});
  EXPECT_NE(html.find("has no evaluation yet"), std::string::npos);
  EXPECT_NE(html.find(":3: the last line is incomplete"), std::string::npos);
  EXPECT_NE(html.find("<svg class=\"chart\""), std::string::npos);
  EXPECT_NE(html.find("no data"), std::string::npos);  // no steps/s records yet
  // Self-contained: nothing is fetched.
  EXPECT_EQ(html.find("http:"), std::string::npos);
  EXPECT_EQ(html.find("https:"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  // One card per puzzle: a solved and a failed one, and the CSS filter that hides solved ones.
  EXPECT_NE(html.find("<section class=\"card ok\"><header><span class=\"pid\">a<"),
            std::string::npos);
  EXPECT_NE(html.find("<section class=\"card failed\"><header><span class=\"pid\">b<"),
            std::string::npos);
  EXPECT_NE(html.find("#failed-only:checked ~ main .card.ok { display: none; }"),
            std::string::npos);
  EXPECT_NE(html.find("2 votes &middot; q 0.75"), std::string::npos);
}

}  // namespace
}  // namespace trm
