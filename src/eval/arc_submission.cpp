// Kaggle submission building, writing and validation (see arc_submission.hpp).
#include "trm/eval/arc_submission.hpp"

#include <cmath>

#include "trm/common/error.hpp"
#include "trm/eval/output_files.hpp"

namespace trm {
namespace {

Grid placeholder_grid() {
  Grid g;
  g.rows = 1;
  g.cols = 1;
  g.cells = {0};
  return g;
}

JsonValue grid_json(const Grid& g) {
  JsonValue::Array rows;
  for (int r = 0; r < g.rows; ++r) {
    JsonValue::Array row;
    for (int c = 0; c < g.cols; ++c) row.push_back(JsonValue::make_number(g.at(r, c)));
    rows.push_back(JsonValue::make_array(std::move(row)));
  }
  return JsonValue::make_array(std::move(rows));
}

}  // namespace

JsonValue arc_submission_json(const ArcVoteResult& result, int attempts) {
  TRM_CHECK(attempts >= 1, "a submission with " << attempts << " attempts",
            "use at least one attempt per test input");
  JsonValue::Object root;
  for (const auto& puzzle : result.puzzles) {
    JsonValue::Array tests;
    for (const auto& tv : puzzle.tests) {
      JsonValue::Object entry;
      for (int a = 0; a < attempts; ++a) {
        const Grid& g = tv.top.empty() ? placeholder_grid()
                        : a < static_cast<int>(tv.top.size()) ? tv.top[a].grid
                                                              : tv.top.front().grid;
        // An empty crop (the model put no colour at the top-left cell) is a valid vote but not
        // a valid Kaggle grid.
        entry.emplace_back("attempt_" + std::to_string(a + 1),
                           grid_json(g.cells.empty() ? placeholder_grid() : g));
      }
      tests.push_back(JsonValue::make_object(std::move(entry)));
    }
    root.emplace_back(puzzle.id, JsonValue::make_array(std::move(tests)));
  }
  return JsonValue::make_object(std::move(root));
}

void write_arc_submission(const ArcVoteResult& result, const std::string& path, int attempts) {
  write_text_file_atomic(path, to_json(arc_submission_json(result, attempts)) + "\n");
}

void validate_arc_submission(const JsonValue& submission, const ArcTestPuzzles& puzzles,
                             int attempts) {
  const char* hint = "the Kaggle format is {id: [{\"attempt_1\": grid, \"attempt_2\": grid}, ...]}";
  TRM_CHECK(submission.is_object(), "submission is not a JSON object", hint);
  const auto& members = submission.as_object();
  TRM_CHECK(members.size() == puzzles.size(),
            "submission has " << members.size() << " puzzles, the test set " << puzzles.size(),
            hint);
  for (const auto& [id, tests] : members) {
    auto it = puzzles.find(id);
    TRM_CHECK(it != puzzles.end(), "submission has unknown puzzle '" << id << "'", hint);
    TRM_CHECK(tests.is_array() && tests.as_array().size() == it->second.size(),
              "puzzle '" << id << "' needs a list of " << it->second.size() << " test entries",
              hint);
    for (size_t t = 0; t < tests.as_array().size(); ++t) {
      const JsonValue& entry = tests.as_array()[t];
      TRM_CHECK(entry.is_object() && entry.as_object().size() == static_cast<size_t>(attempts),
                "puzzle '" << id << "' test " << t << " needs an object with " << attempts
                           << " attempts",
                hint);
      for (int a = 1; a <= attempts; ++a) {
        const std::string key = "attempt_" + std::to_string(a);
        const JsonValue* grid = entry.find(key);
        TRM_CHECK(grid != nullptr, "puzzle '" << id << "' test " << t << " lacks " << key, hint);
        TRM_CHECK(grid->is_array() && !grid->as_array().empty() &&
                      grid->as_array().size() <= static_cast<size_t>(kArcMaxGridSize),
                  "puzzle '" << id << "' test " << t << " " << key
                             << " is not a list of 1..30 rows",
                  hint);
        size_t width = 0;
        for (const auto& row : grid->as_array()) {
          TRM_CHECK(row.is_array() && !row.as_array().empty() &&
                        row.as_array().size() <= static_cast<size_t>(kArcMaxGridSize),
                    "puzzle '" << id << "' test " << t << " " << key
                               << " has a row that is not a list of 1..30 cells",
                    hint);
          if (width == 0) width = row.as_array().size();
          TRM_CHECK(row.as_array().size() == width,
                    "puzzle '" << id << "' test " << t << " " << key << " is not rectangular",
                    hint);
          for (const auto& cell : row.as_array()) {
            TRM_CHECK(cell.is_number() && cell.as_number() >= 0 && cell.as_number() <= 9 &&
                          std::floor(cell.as_number()) == cell.as_number(),
                      "puzzle '" << id << "' test " << t << " " << key
                                 << " has a cell that is not an integer 0..9",
                      hint);
          }
        }
      }
    }
  }
}

}  // namespace trm
