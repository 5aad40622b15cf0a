// arc_votes.json writer (see arc_votes_file.hpp).
#include "trm/eval/arc_votes_file.hpp"

#include "trm/common/error.hpp"
#include "trm/eval/output_files.hpp"

namespace trm {
namespace {

nlohmann::json grid_json(const Grid& g) {
  nlohmann::json rows = nlohmann::json::array();
  for (int r = 0; r < g.rows; ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (int c = 0; c < g.cols; ++c) row.push_back(static_cast<int>(g.at(r, c)));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

nlohmann::json arc_votes_json(const ArcVoteResult& result, const ArcTestPuzzles& test_puzzles,
                              int64_t step) {
  nlohmann::json doc;
  doc["format"] = kArcVotesFormat;
  doc["format_version"] = kArcVotesFormatVersion;
  doc["step"] = step;
  nlohmann::json pass = nlohmann::json::object();
  if (result.num_scored_puzzles > 0)
    for (size_t i = 0; i < result.pass_ks.size(); ++i)
      pass[std::to_string(result.pass_ks[i])] = result.pass_at_k[i];
  doc["pass_at_k"] = std::move(pass);
  doc["num_scored_puzzles"] = result.num_scored_puzzles;
  doc["num_records"] = result.num_records;
  doc["num_unmatched_records"] = result.num_unmatched_records;
  nlohmann::json puzzles = nlohmann::json::array();
  for (const auto& p : result.puzzles) {
    const auto it = test_puzzles.find(p.id);
    TRM_CHECK(it != test_puzzles.end() && it->second.size() == p.tests.size(),
              "ARC vote result for puzzle '" << p.id << "' does not match the test puzzles",
              "pass the test puzzles the vote was computed on");
    nlohmann::json tests = nlohmann::json::array();
    for (size_t t = 0; t < p.tests.size(); ++t) {
      const ArcTestInputVotes& v = p.tests[t];
      const ArcTestPair& pair = it->second[t];
      nlohmann::json test;
      test["input"] = grid_json(pair.input);
      test["output"] = pair.has_output ? grid_json(pair.output) : nlohmann::json(nullptr);
      test["num_votes"] = v.num_votes;
      test["num_candidates"] = v.num_candidates;
      test["label_rank"] = v.label_rank;
      nlohmann::json top = nlohmann::json::array();
      for (const auto& c : v.top)
        top.push_back({{"grid", grid_json(c.grid)}, {"votes", c.votes}, {"mean_q", c.mean_q}});
      test["top"] = std::move(top);
      tests.push_back(std::move(test));
    }
    puzzles.push_back({{"id", p.id}, {"tests", std::move(tests)}});
  }
  doc["puzzles"] = std::move(puzzles);
  return doc;
}

void write_arc_votes(const ArcVoteResult& result, const ArcTestPuzzles& test_puzzles, int64_t step,
                     const std::string& path) {
  write_text_file_atomic(path, arc_votes_json(result, test_puzzles, step).dump() + "\n");
}

}  // namespace trm
