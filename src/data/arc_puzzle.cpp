// Loading ARC tasks from the Kaggle combined files or per-task JSON directories, with grid
// validation whose errors name the file, the puzzle, the field and the position in the file.
#include "trm/data/arc_puzzle.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "trm/common/error.hpp"

namespace trm {
namespace fs = std::filesystem;

namespace {

std::string pos_of(const JsonValue& v) {
  std::ostringstream os;
  os << " (line " << v.line() << ":" << v.col() << ")";
  return os.str();
}

const char* kGridHint = "ARC grids are non-empty rectangular lists of rows of integers 0..9, at most 30x30";

std::vector<ArcExample> examples_from_json(const JsonValue& list, const std::string& where,
                                           bool require_output) {
  TRM_CHECK(list.is_array(), where << " is not a list" << pos_of(list),
            "each puzzle has \"train\" and \"test\" lists of {\"input\", \"output\"}");
  std::vector<ArcExample> out;
  int idx = 0;
  for (const auto& ex : list.as_array()) {
    const std::string ex_where = where + "[" + std::to_string(idx++) + "]";
    TRM_CHECK(ex.is_object(), ex_where << " is not an object" << pos_of(ex),
              "examples are {\"input\": grid, \"output\": grid}");
    const JsonValue* in = ex.find("input");
    TRM_CHECK(in != nullptr, ex_where << " has no \"input\"" << pos_of(ex),
              "examples are {\"input\": grid, \"output\": grid}");
    ArcExample e;
    e.input = arc_grid_from_json(*in, ex_where + ".input");
    const JsonValue* o = ex.find("output");
    if (o != nullptr) {
      e.output = arc_grid_from_json(*o, ex_where + ".output");
    } else {
      TRM_CHECK(!require_output, ex_where << " has no \"output\" (missing test output)" << pos_of(ex),
                "give every example an output, or use the Kaggle layout with a _solutions.json file");
      e.has_output = false;
    }
    out.push_back(std::move(e));
  }
  return out;
}

ArcPuzzle puzzle_from_json(const std::string& id, const JsonValue& obj, const std::string& file,
                           bool require_test_outputs) {
  const std::string where = file + ": puzzle " + id;
  TRM_CHECK(obj.is_object(), where << " is not an object" << pos_of(obj),
            "a puzzle is {\"train\": [...], \"test\": [...]}");
  ArcPuzzle p;
  p.id = id;
  const JsonValue* train = obj.find("train");
  const JsonValue* test = obj.find("test");
  TRM_CHECK(train != nullptr, where << " has no \"train\" list" << pos_of(obj),
            "a puzzle is {\"train\": [...], \"test\": [...]}");
  TRM_CHECK(test != nullptr, where << " has no \"test\" list" << pos_of(obj),
            "a puzzle is {\"train\": [...], \"test\": [...]}");
  p.train = examples_from_json(*train, where + " train", true);
  p.test = examples_from_json(*test, where + " test", require_test_outputs);
  TRM_CHECK(!p.train.empty(), where << " has no train examples", "every ARC puzzle needs demonstrations");
  TRM_CHECK(!p.test.empty(), where << " has no test examples", "every ARC puzzle needs a test input");
  return p;
}

}  // namespace

Grid arc_grid_from_json(const JsonValue& v, const std::string& where) {
  TRM_CHECK(v.is_array(), where << " is not a list of rows" << pos_of(v), kGridHint);
  const auto& rows = v.as_array();
  TRM_CHECK(!rows.empty(), where << " is an empty grid" << pos_of(v), kGridHint);
  TRM_CHECK(static_cast<int>(rows.size()) <= kArcMaxGridSize,
            where << " has " << rows.size() << " rows, more than " << kArcMaxGridSize << pos_of(v),
            kGridHint);
  Grid g;
  g.rows = static_cast<int>(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    const JsonValue& row = rows[r];
    TRM_CHECK(row.is_array(), where << " row " << r << " is not a list" << pos_of(row), kGridHint);
    const auto& cells = row.as_array();
    if (r == 0) {
      g.cols = static_cast<int>(cells.size());
      TRM_CHECK(g.cols > 0, where << " row 0 is empty" << pos_of(row), kGridHint);
      TRM_CHECK(g.cols <= kArcMaxGridSize,
                where << " has " << g.cols << " columns, more than " << kArcMaxGridSize << pos_of(row),
                kGridHint);
      g.cells.reserve(static_cast<size_t>(g.rows) * g.cols);
    }
    TRM_CHECK(static_cast<int>(cells.size()) == g.cols,
              where << " is ragged: row " << r << " has " << cells.size() << " cells, row 0 has "
                    << g.cols << pos_of(row),
              kGridHint);
    for (const auto& c : cells) {
      TRM_CHECK(c.is_number(), where << " row " << r << " holds a non-number" << pos_of(c), kGridHint);
      const double d = c.as_number();
      TRM_CHECK(d >= 0 && d <= 9 && d == std::floor(d),
                where << " row " << r << " holds colour " << d << ", outside 0-9" << pos_of(c),
                kGridHint);
      g.cells.push_back(static_cast<uint8_t>(d));
    }
  }
  return g;
}

JsonValue arc_grid_to_json(const Grid& g) {
  JsonValue::Array rows;
  rows.reserve(g.rows);
  for (int r = 0; r < g.rows; ++r) {
    JsonValue::Array row;
    row.reserve(g.cols);
    for (int c = 0; c < g.cols; ++c) row.push_back(JsonValue::make_number(g.at(r, c)));
    rows.push_back(JsonValue::make_array(std::move(row)));
  }
  return JsonValue::make_array(std::move(rows));
}

JsonValue arc_puzzle_to_json(const ArcPuzzle& p) {
  auto examples = [](const std::vector<ArcExample>& list) {
    JsonValue::Array out;
    for (const auto& e : list) {
      JsonValue::Object o;
      o.emplace_back("input", arc_grid_to_json(e.input));
      o.emplace_back("output", arc_grid_to_json(e.output));
      out.push_back(JsonValue::make_object(std::move(o)));
    }
    return JsonValue::make_array(std::move(out));
  };
  JsonValue::Object o;
  o.emplace_back("train", examples(p.train));
  o.emplace_back("test", examples(p.test));
  return JsonValue::make_object(std::move(o));
}

ArcSubset load_arc_kaggle_subset(const std::string& prefix, const std::string& subset) {
  const std::string challenges_path = prefix + "_" + subset + "_challenges.json";
  const std::string solutions_path = prefix + "_" + subset + "_solutions.json";
  TRM_CHECK(fs::is_regular_file(challenges_path), "ARC challenges file " << challenges_path << " not found",
            "--input-prefix PATH reads PATH_<subset>_challenges.json; see datasets/README.md");
  const JsonValue challenges = parse_json_file(challenges_path);
  TRM_CHECK(challenges.is_object(), challenges_path << " is not a JSON object of puzzles",
            "expected {\"<puzzle id>\": {\"train\": [...], \"test\": [...]}, ...}");
  JsonValue solutions;
  const bool have_solutions = fs::is_regular_file(solutions_path);
  if (have_solutions) {
    solutions = parse_json_file(solutions_path);
    TRM_CHECK(solutions.is_object(), solutions_path << " is not a JSON object",
              "expected {\"<puzzle id>\": [grid, ...], ...}");
  } else {
    std::cerr << "warning: " << solutions_path << " not found; test outputs of subset " << subset
              << " are filled with the dummy [[0]] (as the reference)\n";
  }
  ArcSubset out;
  out.name = subset;
  for (const auto& kv : challenges.as_object()) {
    ArcPuzzle p = puzzle_from_json(kv.first, kv.second, challenges_path, false);
    if (have_solutions) {
      const JsonValue* sols = solutions.find(kv.first);
      TRM_CHECK(sols != nullptr, solutions_path << " has no solutions for puzzle " << kv.first,
                "use the solutions file that matches " + challenges_path);
      TRM_CHECK(sols->is_array() && sols->as_array().size() >= p.test.size(),
                solutions_path << ": puzzle " << kv.first << " has " << (sols->is_array() ? sols->as_array().size() : 0)
                               << " test outputs, the challenge has " << p.test.size() << " test inputs (missing test outputs)",
                "use the solutions file that matches " + challenges_path);
      for (size_t i = 0; i < p.test.size(); ++i) {
        p.test[i].output = arc_grid_from_json(sols->as_array()[i],
                                              solutions_path + ": puzzle " + kv.first + " solution " + std::to_string(i));
        p.test[i].has_output = true;
      }
    } else {
      for (auto& e : p.test) {
        if (!e.has_output) {
          e.output = Grid{1, 1, {0}};
          e.has_output = false;
        }
      }
    }
    out.puzzles.push_back(std::move(p));
  }
  return out;
}

std::string arc_task_dir_subset_name(const std::string& dir) {
  const fs::path p = fs::path(dir).lexically_normal();
  return p.filename().empty() ? p.parent_path().filename().string() : p.filename().string();
}

ArcSubset load_arc_task_dir(const std::string& dir) {
  TRM_CHECK(fs::is_directory(dir), "ARC task directory " << dir << " not found",
            "--input-dirs takes directories of <id>.json files (e.g. ARC-AGI/data/training)");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  TRM_CHECK(!files.empty(), "ARC task directory " << dir << " holds no .json files",
            "--input-dirs takes directories of <id>.json files (e.g. ARC-AGI/data/training)");
  ArcSubset out;
  out.name = arc_task_dir_subset_name(dir);
  for (const auto& f : files) {
    const JsonValue v = parse_json_file(f.string());
    out.puzzles.push_back(puzzle_from_json(f.stem().string(), v, f.string(), true));
  }
  return out;
}

std::vector<ArcPuzzle> load_test_puzzles(const std::string& dataset_dir) {
  const std::string path = (fs::path(dataset_dir) / "test_puzzles.json").string();
  TRM_CHECK(fs::is_regular_file(path), "dataset " << dataset_dir << " has no test_puzzles.json",
            "rebuild the dataset with trm-convert arc");
  const JsonValue v = parse_json_file(path);
  TRM_CHECK(v.is_object(), path << " is not a JSON object", "rebuild the dataset with trm-convert arc");
  std::vector<ArcPuzzle> out;
  for (const auto& kv : v.as_object()) out.push_back(puzzle_from_json(kv.first, kv.second, path, true));
  return out;
}

}  // namespace trm
