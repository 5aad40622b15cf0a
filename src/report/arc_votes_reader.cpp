// read_arc_votes (see arc_votes_reader.hpp), with nlohmann-json; every shape is checked so a
// damaged or foreign file is refused with its path and the puzzle concerned.
#include "trm/report/arc_votes_reader.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "trm/common/error.hpp"

namespace trm {
namespace {

constexpr const char* kHint =
    "arc_votes.json is written by trm-eval (and by the trainer as arc_votes_step_<k>.json); "
    "rerun trm-eval on the checkpoint to rewrite it";

ColourGrid parse_grid(const nlohmann::json& j, const std::string& where) {
  TRM_CHECK(j.is_array() && j.size() <= 30, where << " is not a list of at most 30 rows", kHint);
  ColourGrid g;
  g.rows = static_cast<int>(j.size());
  for (const auto& row : j) {
    TRM_CHECK(row.is_array() && row.size() <= 30 && !row.empty(),
              where << " has a row that is not a list of 1..30 cells", kHint);
    if (g.cols == 0) g.cols = static_cast<int>(row.size());
    TRM_CHECK(static_cast<int>(row.size()) == g.cols, where << " is not rectangular", kHint);
    for (const auto& cell : row) {
      TRM_CHECK(cell.is_number_integer() && cell.get<int>() >= 0 && cell.get<int>() <= 9,
                where << " has a cell that is not a colour 0..9", kHint);
      g.cells.push_back(static_cast<uint8_t>(cell.get<int>()));
    }
  }
  return g;
}

int64_t get_int(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  TRM_CHECK(it != j.end() && it->is_number_integer(),
            where << " lacks the integer \"" << key << "\"", kHint);
  return it->get<int64_t>();
}

}  // namespace

bool ArcPuzzleView::scored() const {
  return !tests.empty() && std::all_of(tests.begin(), tests.end(),
                                       [](const ArcTestView& t) { return t.output.has_value(); });
}

double ArcPuzzleView::solved_fraction(int k) const {
  if (tests.empty()) return 0.0;
  int64_t solved = 0;
  for (const auto& t : tests) solved += t.label_rank >= 0 && t.label_rank < k;
  return static_cast<double>(solved) / static_cast<double>(tests.size());
}

ArcVotes read_arc_votes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TRM_CHECK(in, "cannot open " << path, kHint);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    TRM_FAIL(path << " is not valid JSON (" << e.what() << ")", kHint);
  }
  TRM_CHECK(doc.is_object() && doc.value("format", "") == "trm-dist-arc-votes",
            path << " is not an arc_votes.json file (format \"trm-dist-arc-votes\")", kHint);
  const int64_t version = get_int(doc, "format_version", path);
  TRM_CHECK(version == 1, path << " has format_version " << version << "; this trm-report reads 1",
            "use the trm-report of the trm-dist that wrote the file");
  ArcVotes v;
  v.path = path;
  if (doc.contains("step") && doc["step"].is_number_integer()) v.step = doc["step"].get<int64_t>();
  v.num_scored_puzzles = get_int(doc, "num_scored_puzzles", path);
  v.num_unmatched_records = get_int(doc, "num_unmatched_records", path);
  const auto pass = doc.find("pass_at_k");
  TRM_CHECK(pass != doc.end() && pass->is_object(), path << " lacks the object \"pass_at_k\"",
            kHint);
  for (auto it = pass->begin(); it != pass->end(); ++it) {
    TRM_CHECK(it->is_number(), path << " pass_at_k \"" << it.key() << "\" is not a number", kHint);
    int k = 0;
    try {
      k = std::stoi(it.key());
    } catch (const std::exception&) {
      TRM_FAIL(path << " pass_at_k key \"" << it.key() << "\" is not an integer K", kHint);
    }
    v.pass_at_k.emplace_back(k, it->get<double>());
  }
  std::sort(v.pass_at_k.begin(), v.pass_at_k.end());
  const auto puzzles = doc.find("puzzles");
  TRM_CHECK(puzzles != doc.end() && puzzles->is_array(), path << " lacks the list \"puzzles\"",
            kHint);
  for (const auto& p : *puzzles) {
    TRM_CHECK(p.is_object() && p.contains("id") && p["id"].is_string() && p.contains("tests") &&
                  p["tests"].is_array(),
              path << " has a puzzle entry without \"id\" and \"tests\"", kHint);
    ArcPuzzleView view;
    view.id = p["id"].get<std::string>();
    for (size_t t = 0; t < p["tests"].size(); ++t) {
      const nlohmann::json& tj = p["tests"][t];
      const std::string where = path + " puzzle '" + view.id + "' test " + std::to_string(t);
      TRM_CHECK(
          tj.is_object() && tj.contains("input") && tj.contains("top") && tj["top"].is_array(),
          where << " lacks \"input\" or \"top\"", kHint);
      ArcTestView test;
      test.input = parse_grid(tj["input"], where + " input");
      if (tj.contains("output") && !tj["output"].is_null())
        test.output = parse_grid(tj["output"], where + " output");
      test.num_votes = get_int(tj, "num_votes", where);
      test.num_candidates = get_int(tj, "num_candidates", where);
      test.label_rank = get_int(tj, "label_rank", where);
      for (size_t c = 0; c < tj["top"].size(); ++c) {
        const nlohmann::json& cj = tj["top"][c];
        const std::string cwhere = where + " candidate " + std::to_string(c + 1);
        TRM_CHECK(cj.is_object() && cj.contains("grid") && cj.contains("mean_q") &&
                      cj["mean_q"].is_number(),
                  cwhere << " lacks \"grid\" or a numeric \"mean_q\"", kHint);
        ArcCandidateView cand;
        cand.grid = parse_grid(cj["grid"], cwhere);
        cand.votes = get_int(cj, "votes", cwhere);
        cand.mean_q = cj["mean_q"].get<double>();
        test.top.push_back(std::move(cand));
      }
      view.tests.push_back(std::move(test));
    }
    v.puzzles.push_back(std::move(view));
  }
  return v;
}

}  // namespace trm
