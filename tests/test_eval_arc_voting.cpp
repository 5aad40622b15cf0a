// ARC augmentation voting: hand-made predictions with known vote counts and q values give the
// known ranking and pass@K (ties included, a puzzle with two test inputs, puzzles without
// predictions); predicting the augmented ground truth under every dihedral transform and random
// colour maps gives pass@1 = 1 after de-augmentation, garbage gives 0; the byte form round-trips
// and rejects damage; the result does not depend on the order records arrive in; the Kaggle
// submission.json parses back and validates; arc_votes.json records the vote per test input.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <random>

#include <unistd.h>

#include "trm/common/error.hpp"
#include "trm/data/json.hpp"
#include "trm/eval/arc_crop.hpp"
#include "trm/eval/arc_evaluator.hpp"
#include "trm/eval/arc_submission.hpp"
#include "trm/eval/arc_votes_file.hpp"

namespace trm {
namespace {

Grid filled(int rows, int cols, uint8_t colour) {
  Grid g;
  g.rows = rows;
  g.cols = cols;
  g.cells.assign(static_cast<size_t>(rows) * cols, colour);
  return g;
}

Grid random_grid(int rows, int cols, std::mt19937& rng) {
  std::uniform_int_distribution<int> colour(0, 9);
  Grid g = filled(rows, cols, 0);
  for (auto& c : g.cells) c = static_cast<uint8_t>(colour(rng));
  return g;
}

ArcTestPair pair_of(const Grid& in, const Grid& out) {
  ArcTestPair p;
  p.input = in;
  p.output = out;
  p.has_output = true;
  return p;
}

double pass_at(const ArcVoteResult& r, int k) {
  for (size_t i = 0; i < r.pass_ks.size(); ++i) {
    if (r.pass_ks[i] == k) return r.pass_at_k[i];
  }
  ADD_FAILURE() << "no pass@" << k;
  return -1;
}

const ArcPuzzleVotes& puzzle(const ArcVoteResult& r, const std::string& id) {
  for (const auto& p : r.puzzles) {
    if (p.id == id) return p;
  }
  throw std::runtime_error("no puzzle " + id);
}

// Three test puzzles: p1 (one test input), p2 (two test inputs), p3 (never predicted).
struct HandMade {
  Grid in1 = filled(2, 2, 1), out1 = filled(3, 3, 4);
  Grid in2a = filled(1, 4, 2), out2a = filled(2, 1, 5);
  Grid in2b = filled(4, 1, 2), out2b = filled(1, 1, 6);
  Grid in3 = filled(5, 5, 3), out3 = filled(5, 5, 7);
  Grid x = filled(3, 3, 8), y = filled(3, 3, 9);
  ArcTestPuzzles puzzles;
  ArcPredictionSet set;

  HandMade() {
    puzzles["p1"] = {pair_of(in1, out1)};
    puzzles["p2"] = {pair_of(in2a, out2a), pair_of(in2b, out2b)};
    puzzles["p3"] = {pair_of(in3, out3)};
    // p1: x 3 votes (mean q 0.1), y 2 votes (mean 0.9), the answer 2 votes (mean 0.8).
    set.add_grids("p1", in1, out1, 0.9, 0);
    set.add_grids("p1", in1, x, 0.1, 1);
    set.add_grids("p1", in1, y, 0.95, 2);
    set.add_grids("p1", in1, x, 0.1, 3);
    set.add_grids("p1", in1, out1, 0.7, 4);
    set.add_grids("p1", in1, y, 0.85, 5);
    set.add_grids("p1", in1, x, 0.1, 6);
    // p2: first test input answered right by the only vote; the second is never predicted.
    set.add_grids("p2", in2a, out2a, 0.3, 7);
    // Unmatched: a puzzle outside the test set, and an input that is not p1's test input.
    set.add_grids("train_only", in1, out1, 0.5, 8);
    set.add_grids("p1", in3, out1, 0.5, 9);
  }
};

TEST(ArcVoting, RanksByVotesThenMeanQAndScoresPassAtK) {
  HandMade h;
  const ArcVoteResult r = vote_arc_predictions(h.set, h.puzzles);
  ASSERT_EQ(r.puzzles.size(), 3u);
  const auto& p1 = puzzle(r, "p1").tests.at(0);
  EXPECT_EQ(p1.num_votes, 7);
  EXPECT_EQ(p1.num_candidates, 3);
  ASSERT_EQ(p1.top.size(), 2u);  // submission_k
  EXPECT_EQ(p1.top[0].grid, h.x);
  EXPECT_EQ(p1.top[0].votes, 3);
  EXPECT_NEAR(p1.top[0].mean_q, 0.1, 1e-12);
  EXPECT_EQ(p1.top[1].grid, h.y);
  EXPECT_NEAR(p1.top[1].mean_q, 0.9, 1e-12);
  EXPECT_EQ(p1.label_rank, 2);

  const auto& p2 = puzzle(r, "p2");
  EXPECT_EQ(p2.tests.at(0).label_rank, 0);
  EXPECT_EQ(p2.tests.at(1).num_votes, 0);
  EXPECT_EQ(p2.tests.at(1).label_rank, -1);

  EXPECT_EQ(r.num_records, 10);
  EXPECT_EQ(r.num_unmatched_records, 2);
  EXPECT_EQ(r.num_scored_puzzles, 3);
  EXPECT_EQ(r.puzzles_without_predictions, (std::vector<std::string>{"p2", "p3"}));
  // p1 solved from K = 3, p2 half solved from K = 1, p3 never.
  EXPECT_DOUBLE_EQ(pass_at(r, 1), 0.5 / 3);
  EXPECT_DOUBLE_EQ(pass_at(r, 2), 0.5 / 3);
  EXPECT_DOUBLE_EQ(pass_at(r, 5), 1.5 / 3);
  EXPECT_DOUBLE_EQ(pass_at(r, 1000), 1.5 / 3);
  const auto m = r.metrics();
  EXPECT_EQ(m.size(), 6u);
  EXPECT_DOUBLE_EQ(m.at("ARC/pass@5"), 1.5 / 3);
}

TEST(ArcVoting, ExactTiesGoToTheEarliestDatasetRow) {
  const Grid in = filled(2, 2, 1), out = filled(1, 1, 3);
  const Grid a = filled(1, 1, 4), b = filled(1, 1, 5);
  ArcTestPuzzles puzzles;
  puzzles["t"] = {pair_of(in, out)};
  ArcPredictionSet set;
  // a and b: 2 votes each, mean q 0.5 each; b's first vote is the earlier row (3 < 7) although
  // it is added later.
  set.add_grids("t", in, a, 0.5, 7);
  set.add_grids("t", in, a, 0.5, 8);
  set.add_grids("t", in, b, 0.25, 3);
  set.add_grids("t", in, b, 0.75, 9);
  set.add_grids("t", in, out, 1.0, 10);  // 1 vote: ranks last despite the highest q
  ArcVoteResult r = vote_arc_predictions(set, puzzles);
  const auto& tv = r.puzzles.at(0).tests.at(0);
  ASSERT_EQ(tv.top.size(), 2u);
  EXPECT_EQ(tv.top[0].grid, b);
  EXPECT_EQ(tv.top[1].grid, a);
  EXPECT_EQ(tv.label_rank, 2);
  EXPECT_DOUBLE_EQ(pass_at(r, 2), 0.0);
  EXPECT_DOUBLE_EQ(pass_at(r, 5), 1.0);
  // Equal votes, higher mean q first.
  set.add_grids("t", in, a, 0.9, 11);
  set.add_grids("t", in, b, 0.1, 12);
  r = vote_arc_predictions(set, puzzles);
  EXPECT_EQ(r.puzzles.at(0).tests.at(0).top[0].grid, a);
}

TEST(ArcVoting, ResultIgnoresRecordOrderAndSplitting) {
  std::mt19937 rng(5);
  const Grid in = random_grid(3, 4, rng);
  ArcTestPuzzles puzzles;
  puzzles["q"] = {pair_of(in, random_grid(2, 2, rng))};
  std::vector<Grid> pool;
  for (int i = 0; i < 4; ++i) pool.push_back(random_grid(2, 2, rng));
  struct Rec {
    Grid g;
    double q;
    uint64_t idx;
  };
  std::vector<Rec> recs;
  std::uniform_int_distribution<int> pick(0, 3);
  std::uniform_real_distribution<double> uq(0, 1);
  for (uint64_t i = 0; i < 200; ++i) recs.push_back({pool[pick(rng)], uq(rng), i});
  ArcPredictionSet in_order;
  for (const auto& r : recs) in_order.add_grids("q", in, r.g, r.q, r.idx);
  const std::string reference =
      to_json(arc_submission_json(vote_arc_predictions(in_order, puzzles), 2));
  const auto reference_votes = vote_arc_predictions(in_order, puzzles);

  std::shuffle(recs.begin(), recs.end(), rng);
  ArcPredictionSet part1, part2, merged;
  for (size_t i = 0; i < recs.size(); ++i) {
    (i % 3 == 0 ? part1 : part2).add_grids("q", in, recs[i].g, recs[i].q, recs[i].idx);
  }
  merged.merge(ArcPredictionSet::deserialize(part2.serialize(), "part2"));
  merged.merge(ArcPredictionSet::deserialize(part1.serialize(), "part1"));
  const auto votes = vote_arc_predictions(merged, puzzles);
  EXPECT_EQ(to_json(arc_submission_json(votes, 2)), reference);
  const auto& a = votes.puzzles[0].tests[0];
  const auto& b = reference_votes.puzzles[0].tests[0];
  ASSERT_EQ(a.top.size(), b.top.size());
  for (size_t i = 0; i < a.top.size(); ++i) {
    EXPECT_EQ(a.top[i].votes, b.top[i].votes);
    EXPECT_EQ(a.top[i].mean_q, b.top[i].mean_q);  // bit-identical sums
  }
}

TEST(ArcVoting, SerialisationRoundTripsAndRejectsDamage) {
  HandMade h;
  const auto bytes = h.set.serialize();
  const auto back = ArcPredictionSet::deserialize(bytes, "test");
  ASSERT_EQ(back.size(), h.set.size());
  EXPECT_EQ(back.grids().size(), h.set.grids().size());
  EXPECT_EQ(back.puzzle_names(), h.set.puzzle_names());
  for (size_t i = 0; i < back.size(); ++i) {
    const auto& a = back.records()[i];
    const auto& b = h.set.records()[i];
    EXPECT_EQ(a.example_index, b.example_index);
    EXPECT_EQ(a.input_hash, b.input_hash);
    EXPECT_EQ(back.grids()[a.grid], h.set.grids()[b.grid]);
    EXPECT_EQ(a.q, b.q);
  }
  EXPECT_EQ(ArcPredictionSet::deserialize(ArcPredictionSet().serialize(), "empty").size(), 0u);
  auto truncated = bytes;
  truncated.resize(bytes.size() - 3);
  EXPECT_THROW(ArcPredictionSet::deserialize(truncated, "t"), Error);
  auto bad_magic = bytes;
  bad_magic[0] ^= 0xff;
  EXPECT_THROW(ArcPredictionSet::deserialize(bad_magic, "t"), Error);
  auto trailing = bytes;
  trailing.push_back(0);
  EXPECT_THROW(ArcPredictionSet::deserialize(trailing, "t"), Error);
}

// Builds, for one puzzle, every (transform, colour map) variant's test row as the dataset does
// and feeds the evaluator either the augmented ground truth or garbage as the prediction.
struct AugmentedRows {
  std::vector<std::string> names{"<blank>"};
  std::vector<int32_t> ids, inputs;
  std::vector<int64_t> preds, example_indices;
  std::vector<float> q;
};

AugmentedRows augmented_rows(const std::string& id, const std::vector<ArcTestPair>& pairs,
                             bool truthful, std::mt19937& rng) {
  AugmentedRows rows;
  std::vector<int64_t> canvas(kArcCanvasCells);
  for (int t = 0; t < kNumDihedral; ++t) {
    for (int m = 0; m < 3; ++m) {
      ArcAugmentation aug;
      aug.trans_id = t;
      if (m > 0) std::shuffle(aug.mapping.begin() + 1, aug.mapping.end(), rng);
      rows.names.push_back(augmented_puzzle_name(id, aug));
      for (const auto& pair : pairs) {
        rows.ids.push_back(static_cast<int32_t>(rows.names.size() - 1));
        encode_arc_canvas(apply_augmentation(pair.input, aug), canvas.data());
        rows.inputs.insert(rows.inputs.end(), canvas.begin(), canvas.end());
        Grid pred = apply_augmentation(pair.output, aug);
        if (!truthful) {
          // Garbage: a shape the answer never has, so no inverse can equal it.
          pred = filled(pair.output.rows + 1, pair.output.cols, static_cast<uint8_t>(t));
        }
        encode_arc_canvas(pred, canvas.data());
        rows.preds.insert(rows.preds.end(), canvas.begin(), canvas.end());
        rows.example_indices.push_back(static_cast<int64_t>(rows.example_indices.size()));
        rows.q.push_back(0.25f * m);
      }
    }
  }
  return rows;
}

TEST(ArcVoting, DeAugmentedGroundTruthWinsForEveryTransformAndColourMap) {
  std::mt19937 rng(123);
  ArcTestPuzzles puzzles;
  // Non-square grids with all colours, so a wrong inverse cannot go unnoticed.
  puzzles["abc"] = {pair_of(random_grid(3, 5, rng), random_grid(4, 2, rng)),
                    pair_of(random_grid(6, 3, rng), random_grid(2, 7, rng))};
  for (bool truthful : {true, false}) {
    AugmentedRows rows = augmented_rows("abc", puzzles["abc"], truthful, rng);
    ArcEvaluator evaluator(rows.names, puzzles);
    // Two blank padding rows must be skipped.
    rows.ids.push_back(0);
    rows.ids.push_back(0);
    rows.inputs.resize(rows.inputs.size() + 2 * kArcCanvasCells, 0);
    rows.preds.resize(rows.preds.size() + 2 * kArcCanvasCells, 0);
    rows.example_indices.push_back(-1);
    rows.example_indices.push_back(-1);
    rows.q.push_back(0);
    rows.q.push_back(0);
    evaluator.add_batch(static_cast<int64_t>(rows.ids.size()), rows.ids.data(),
                        rows.inputs.data(), rows.preds.data(), rows.q.data(),
                        rows.example_indices.data());
    const auto result = evaluator.finish(single_process_gather());
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->num_records, 2 * kNumDihedral * 3);
    EXPECT_EQ(result->num_unmatched_records, 0);
    const auto& tests = result->puzzles.at(0).tests;
    if (truthful) {
      EXPECT_DOUBLE_EQ(pass_at(*result, 1), 1.0);
      for (size_t t = 0; t < 2; ++t) {
        EXPECT_EQ(tests[t].num_candidates, 1);
        EXPECT_EQ(tests[t].top.at(0).votes, kNumDihedral * 3);
        EXPECT_EQ(tests[t].top.at(0).grid, puzzles["abc"][t].output);
      }
    } else {
      for (int k : {1, 2, 5, 10, 100, 1000}) EXPECT_DOUBLE_EQ(pass_at(*result, k), 0.0);
      EXPECT_EQ(tests[0].num_votes, kNumDihedral * 3);
    }
  }
}

TEST(ArcVoting, UnknownIdentifierIsAnError) {
  ArcEvaluator evaluator({"<blank>", "a"}, {});
  std::vector<int32_t> ids = {5}, inputs(kArcCanvasCells, 2);
  std::vector<int64_t> preds(kArcCanvasCells, 2), idx = {0};
  std::vector<float> q = {0};
  EXPECT_THROW(evaluator.add_batch(1, ids.data(), inputs.data(), preds.data(), q.data(),
                                   idx.data()),
               Error);
}

TEST(ArcSubmission, WritesParsesBackAndValidatesKaggleStructure) {
  HandMade h;
  const ArcVoteResult r = vote_arc_predictions(h.set, h.puzzles);
  const auto dir = std::filesystem::temp_directory_path() /
                   ("trm_eval_submission_" + std::to_string(::getpid()));
  const std::string path = (dir / "sub" / "submission.json").string();
  write_arc_submission(r, path);
  const JsonValue back = parse_json_file(path);
  validate_arc_submission(back, h.puzzles);
  ASSERT_EQ(back.as_object().size(), 3u);

  auto grid_at = [&](const std::string& id, size_t test, const std::string& attempt) {
    return arc_grid_from_json(*back.find(id)->as_array().at(test).find(attempt), id);
  };
  EXPECT_EQ(grid_at("p1", 0, "attempt_1"), h.x);
  EXPECT_EQ(grid_at("p1", 0, "attempt_2"), h.y);
  EXPECT_EQ(grid_at("p2", 0, "attempt_1"), h.out2a);
  EXPECT_EQ(grid_at("p2", 0, "attempt_2"), h.out2a);  // one candidate: repeated
  EXPECT_EQ(back.find("p2")->as_array().size(), 2u);
  EXPECT_EQ(grid_at("p2", 1, "attempt_1"), filled(1, 1, 0));  // placeholder
  EXPECT_EQ(grid_at("p3", 0, "attempt_2"), filled(1, 1, 0));
  // No temporary file is left behind.
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "sub")) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);
  std::filesystem::remove_all(dir);

  // The validator catches structural errors.
  ArcTestPuzzles extra = h.puzzles;
  extra["p4"] = {pair_of(h.in1, h.out1)};
  EXPECT_THROW(validate_arc_submission(back, extra), Error);
  const JsonValue bad = parse_json(
      R"({"p1":[{"attempt_1":[[1,2],[3]],"attempt_2":[[0]]}],"p2":[{"attempt_1":[[0]],)"
      R"("attempt_2":[[0]]},{"attempt_1":[[0]],"attempt_2":[[0]]}],"p3":[{"attempt_1":[[0]],)"
      R"("attempt_2":[[0]]}]})",
      "bad");
  EXPECT_THROW(validate_arc_submission(bad, h.puzzles), Error);
  const JsonValue bad_colour = parse_json(
      R"({"p1":[{"attempt_1":[[10]],"attempt_2":[[0]]}],"p2":[{"attempt_1":[[0]],)"
      R"("attempt_2":[[0]]},{"attempt_1":[[0]],"attempt_2":[[0]]}],"p3":[{"attempt_1":[[0]],)"
      R"("attempt_2":[[0]]}]})",
      "bad");
  EXPECT_THROW(validate_arc_submission(bad_colour, h.puzzles), Error);
  const JsonValue good = parse_json(
      R"({"p1":[{"attempt_1":[[1,2],[3,4]],"attempt_2":[[0]]}],"p2":[{"attempt_1":[[0]],)"
      R"("attempt_2":[[0]]},{"attempt_1":[[0]],"attempt_2":[[0]]}],"p3":[{"attempt_1":[[0]],)"
      R"("attempt_2":[[0]]}]})",
      "good");
  EXPECT_NO_THROW(validate_arc_submission(good, h.puzzles));
}

TEST(ArcVotesFile, RecordsInputsTruthAndRankedCandidatesPerTestInput) {
  HandMade h;
  const ArcVoteResult r = vote_arc_predictions(h.set, h.puzzles);
  const nlohmann::json j = arc_votes_json(r, h.puzzles, 42);
  EXPECT_EQ(j.at("format"), kArcVotesFormat);
  EXPECT_EQ(j.at("format_version"), 1);
  EXPECT_EQ(j.at("step"), 42);
  EXPECT_DOUBLE_EQ(j.at("pass_at_k").at("5").get<double>(), 1.5 / 3);
  EXPECT_EQ(j.at("num_unmatched_records"), 2);
  ASSERT_EQ(j.at("puzzles").size(), 3u);
  const nlohmann::json& p1 = j.at("puzzles").at(0);
  EXPECT_EQ(p1.at("id"), "p1");
  const nlohmann::json& t = p1.at("tests").at(0);
  EXPECT_EQ(t.at("input"), nlohmann::json::parse("[[1,1],[1,1]]"));
  EXPECT_EQ(t.at("output"), nlohmann::json::parse("[[4,4,4],[4,4,4],[4,4,4]]"));
  EXPECT_EQ(t.at("num_votes"), 7);
  EXPECT_EQ(t.at("num_candidates"), 3);
  EXPECT_EQ(t.at("label_rank"), 2);
  ASSERT_EQ(t.at("top").size(), 2u);
  EXPECT_EQ(t.at("top").at(0).at("grid"), nlohmann::json::parse("[[8,8,8],[8,8,8],[8,8,8]]"));
  EXPECT_EQ(t.at("top").at(0).at("votes"), 3);
  EXPECT_NEAR(t.at("top").at(1).at("mean_q").get<double>(), 0.9, 1e-12);
  // p2's second test input was never predicted: no candidates, rank -1.
  const nlohmann::json& p2b = j.at("puzzles").at(1).at("tests").at(1);
  EXPECT_TRUE(p2b.at("top").empty());
  EXPECT_EQ(p2b.at("label_rank"), -1);
  // Hidden outputs are null; votes that do not match the puzzles are refused.
  ArcTestPuzzles hidden = h.puzzles;
  hidden["p3"][0].has_output = false;
  EXPECT_TRUE(arc_votes_json(r, hidden, 0).at("puzzles").at(2).at("tests").at(0).at("output").is_null());
  ArcTestPuzzles fewer = h.puzzles;
  fewer.erase("p3");
  EXPECT_THROW(arc_votes_json(r, fewer, 0), Error);
}

}  // namespace
}  // namespace trm
