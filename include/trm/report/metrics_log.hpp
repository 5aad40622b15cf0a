// Reading a run's metrics.jsonl (written by the trainer, docs/TRAINING.md): one JSON object per
// line, {"kind": "train" | "progress" | "eval", "step": N, "epoch": E, <metric>: number | null}.
// Reading never fails on content: a run that is still going or was killed leaves a partial file,
// so a malformed line is skipped and named (file:line and what is wrong) for the report to show.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace trm {

struct MetricsRecord {
  std::string kind;
  int64_t step = 0;
  int64_t line = 0;                      // 1-based line in the file
  std::map<std::string, double> values;  // every numeric member but "step"; null -> NaN
};

struct MetricsLog {
  std::string path;
  bool found = false;                  // the file exists and could be opened
  int64_t lines = 0;                   // non-empty lines read
  std::vector<MetricsRecord> records;  // the well-formed lines, in file order
  std::vector<std::string> problems;   // "path:line: what is wrong", one per skipped line

  // One value per step (the last record of that step wins, as after a resume from an earlier
  // checkpoint), sorted by step; records of other kinds or without the key are skipped.
  struct Points {
    std::vector<double> steps, values;
  };
  Points series(const std::string& kind, const std::string& key) const;
  bool has(const std::string& kind, const std::string& key) const;
  // The last record of a kind (by file order); null when there is none.
  const MetricsRecord* last(const std::string& kind) const;
};

// A missing file gives found = false and no problems (the caller says what is missing).
MetricsLog read_metrics_log(const std::string& path);

}  // namespace trm
