// What trm-report finds in one folder given on its command line: a training run
// (metrics.jsonl, the trainer's arc_votes_step_<k>.json, trm-eval's eval_<checkpoint>/ folders)
// or a trm-eval output folder (eval_metrics.json, arc_votes.json, eval_outputs.h5). Nothing here
// throws for missing or damaged files: each becomes a note that the page shows, so a run that is
// still going, was killed, or was never evaluated still gets a page saying what is missing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "trm/report/arc_votes_reader.hpp"
#include "trm/report/eval_outputs_reader.hpp"
#include "trm/report/metrics_log.hpp"

namespace trm {

struct EvalSummary {  // eval_metrics.json of a trm-eval folder
  std::string path;
  std::string checkpoint;
  std::string weights;  // "ema" or "raw"
  int64_t step = -1;
  std::map<std::string, double> metrics;
};

struct RunData {
  std::string name;  // legend and headings: the folder name
  std::string dir;
  MetricsLog metrics;
  std::optional<EvalSummary> eval;
  std::optional<ArcVotes> arc;
  std::optional<EvalOutputsSample> outputs;
  std::vector<std::string> notes;  // missing or skipped inputs, in words

  bool has_content() const { return !metrics.records.empty() || arc || outputs; }
};

struct RunDataOptions {
  int64_t sample_rows = 12;  // Sudoku/Maze puzzles to draw per run
};

// `path`: a run folder, a trm-eval output folder, or a metrics .jsonl file.
RunData collect_run_data(const std::string& path, const RunDataOptions& options = {});

// Distinct display names: the folder names, or their last two path parts where they clash.
void assign_run_names(std::vector<RunData>& runs);

}  // namespace trm
