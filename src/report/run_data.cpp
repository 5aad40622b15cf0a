// collect_run_data (see run_data.hpp). Search order for predictions: the folder itself (a
// trm-eval output folder), then its eval_*/ folders newest first, then the trainer's newest
// arc_votes_step_<k>.json.
#include "trm/report/run_data.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace trm {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxListedProblems = 20;

std::optional<EvalSummary> read_eval_summary(const fs::path& file,
                                             std::vector<std::string>& notes) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    EvalSummary s;
    s.path = file.string();
    s.checkpoint = j.value("checkpoint", "");
    s.weights = j.value("weights", "");
    if (j.contains("step") && j["step"].is_number()) s.step = j["step"].get<int64_t>();
    if (j.contains("metrics") && j["metrics"].is_object())
      for (auto it = j["metrics"].begin(); it != j["metrics"].end(); ++it)
        if (it->is_number()) s.metrics[it.key()] = it->get<double>();
    return s;
  } catch (const nlohmann::json::exception& e) {
    notes.push_back(file.string() + ": not readable as JSON (" + e.what() +
                    "); its metrics are not shown");
    return std::nullopt;
  }
}

// Eval output folders of a run, newest first.
std::vector<fs::path> eval_folders(const fs::path& dir) {
  std::vector<std::pair<fs::file_time_type, fs::path>> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_directory() || e.path().filename().string().rfind("eval_", 0) != 0) continue;
    found.emplace_back(fs::last_write_time(e.path(), ec), e.path());
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<fs::path> out;
  for (auto& [t, p] : found) out.push_back(p);
  return out;
}

// The trainer's arc_votes_step_<k>.json with the largest k.
std::optional<fs::path> newest_trainer_votes(const fs::path& dir) {
  std::optional<fs::path> best;
  int64_t best_step = -1;
  std::error_code ec;
  const std::string prefix = "arc_votes_step_";
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || e.path().extension() != ".json") continue;
    try {
      const int64_t step = std::stoll(name.substr(prefix.size()));
      if (step > best_step) {
        best_step = step;
        best = e.path();
      }
    } catch (const std::exception&) {
    }
  }
  return best;
}

void read_predictions(RunData& run, const fs::path& folder, const RunDataOptions& options) {
  const fs::path votes = folder / "arc_votes.json", outputs = folder / "eval_outputs.h5";
  run.eval = read_eval_summary(folder / "eval_metrics.json", run.notes);
  if (fs::exists(votes)) {
    try {
      run.arc = read_arc_votes(votes.string());
    } catch (const std::exception& e) {
      run.notes.push_back(std::string("ARC predictions skipped: ") + e.what());
    }
  }
  if (fs::exists(outputs)) {
    try {
      EvalOutputsSample s = read_eval_outputs_sample(outputs.string(), options.sample_rows);
      if (s.kind == "arc") {
        if (!run.arc)
          run.notes.push_back(outputs.string() + " holds ARC rows but " + votes.string() +
                              " is missing: ARC predictions are drawn from the vote, which "
                              "trm-eval writes to arc_votes.json; rerun trm-eval");
      } else {
        run.outputs = std::move(s);
      }
    } catch (const std::exception& e) {
      run.notes.push_back(std::string("Sudoku/Maze predictions skipped: ") + e.what());
    }
  }
}

}  // namespace

RunData collect_run_data(const std::string& path, const RunDataOptions& options) {
  RunData run;
  std::error_code ec;
  fs::path dir = path;
  fs::path metrics_file = dir / "metrics.jsonl";
  if (fs::is_regular_file(dir, ec)) {
    metrics_file = dir;
    dir = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
  }
  run.dir = dir.string();
  run.name = fs::absolute(dir, ec).lexically_normal().filename().string();
  if (run.name.empty())
    run.name = fs::absolute(dir, ec).lexically_normal().parent_path().filename().string();
  if (!fs::is_directory(dir, ec)) {
    run.notes.push_back(path + " does not exist (or is not a folder): nothing to report for it");
    return run;
  }
  const bool eval_folder = fs::exists(dir / "eval_metrics.json") ||
                           fs::exists(dir / "arc_votes.json") ||
                           fs::exists(dir / "eval_outputs.h5");

  run.metrics = read_metrics_log(metrics_file.string());
  if (!run.metrics.found) {
    if (!eval_folder)
      run.notes.push_back("no " + metrics_file.string() +
                          ": no training curves (the run has not started, or its metrics_path "
                          "points elsewhere: pass that file instead)");
  } else if (run.metrics.records.empty()) {
    run.notes.push_back(metrics_file.string() + " has no complete record yet: no training curves");
  } else if (!run.metrics.last("eval")) {
    run.notes.push_back(metrics_file.string() +
                        " has no evaluation yet (the run is before its first evaluation, or was "
                        "stopped earlier): curves show training steps only");
  }
  for (size_t i = 0; i < run.metrics.problems.size() && i < kMaxListedProblems; ++i)
    run.notes.push_back("skipped " + run.metrics.problems[i]);
  if (run.metrics.problems.size() > kMaxListedProblems)
    run.notes.push_back("... and " +
                        std::to_string(run.metrics.problems.size() - kMaxListedProblems) +
                        " more malformed line(s) in " + metrics_file.string());

  if (eval_folder) {
    read_predictions(run, dir, options);
  } else {
    for (const fs::path& folder : eval_folders(dir)) {
      if (!fs::exists(folder / "arc_votes.json") && !fs::exists(folder / "eval_outputs.h5"))
        continue;
      read_predictions(run, folder, options);
      break;
    }
    if (!run.arc && !run.outputs) {
      if (const auto votes = newest_trainer_votes(dir)) {
        try {
          run.arc = read_arc_votes(votes->string());
        } catch (const std::exception& e) {
          run.notes.push_back(std::string("ARC predictions skipped: ") + e.what());
        }
      }
    }
  }
  if (!run.arc && !run.outputs)
    run.notes.push_back("no predictions in " + run.dir + ": run `trm-eval --checkpoint " + run.dir +
                        " --save-outputs` to add them (ARC: its arc_votes.json; Sudoku/Maze: "
                        "eval_outputs.h5)");
  return run;
}

void assign_run_names(std::vector<RunData>& runs) {
  std::vector<std::string> names;
  for (const auto& r : runs) names.push_back(r.name);
  for (auto& r : runs) {
    if (std::count(names.begin(), names.end(), r.name) < 2) continue;
    std::error_code ec;
    fs::path p = fs::absolute(r.dir, ec).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    r.name = (p.parent_path().filename() / p.filename()).string();
  }
}

}  // namespace trm
