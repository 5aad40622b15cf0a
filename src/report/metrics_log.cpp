// read_metrics_log (see metrics_log.hpp), parsed with nlohmann-json line by line.
#include "trm/report/metrics_log.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

namespace trm {

MetricsLog read_metrics_log(const std::string& path) {
  MetricsLog log;
  log.path = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) return log;
  log.found = true;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    const bool last_line_unterminated = in.eof();  // getline hit EOF before a newline
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ++log.lines;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      log.problems.push_back(where + (last_line_unterminated
                                          ? "the last line is incomplete (the run is still "
                                            "writing it, or was killed while writing)"
                                          : "not valid JSON (" + std::string(e.what()) + ")"));
      continue;
    }
    if (!j.is_object()) {
      log.problems.push_back(where + "not a JSON object");
      continue;
    }
    const auto kind = j.find("kind");
    const auto step = j.find("step");
    if (kind == j.end() || !kind->is_string()) {
      log.problems.push_back(where + "no \"kind\" string");
      continue;
    }
    if (step == j.end() || !step->is_number_integer()) {
      log.problems.push_back(where + "no integer \"step\"");
      continue;
    }
    MetricsRecord r;
    r.kind = kind->get<std::string>();
    r.step = step->get<int64_t>();
    r.line = number;
    std::string bad_keys;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "kind" || it.key() == "step") continue;
      if (it->is_number())
        r.values[it.key()] = it->get<double>();
      else if (it->is_null())
        r.values[it.key()] = std::numeric_limits<double>::quiet_NaN();
      else
        bad_keys += (bad_keys.empty() ? "" : ", ") + it.key();
    }
    if (!bad_keys.empty())
      log.problems.push_back(where + "ignored non-numeric value(s) of " + bad_keys);
    log.records.push_back(std::move(r));
  }
  return log;
}

MetricsLog::Points MetricsLog::series(const std::string& kind, const std::string& key) const {
  std::map<int64_t, double> by_step;
  for (const auto& r : records) {
    if (r.kind != kind) continue;
    const auto it = r.values.find(key);
    if (it != r.values.end()) by_step[r.step] = it->second;
  }
  Points p;
  for (const auto& [step, value] : by_step) {
    p.steps.push_back(static_cast<double>(step));
    p.values.push_back(value);
  }
  return p;
}

bool MetricsLog::has(const std::string& kind, const std::string& key) const {
  for (const auto& r : records)
    if (r.kind == kind && r.values.count(key) && std::isfinite(r.values.at(key))) return true;
  return false;
}

const MetricsRecord* MetricsLog::last(const std::string& kind) const {
  for (auto it = records.rbegin(); it != records.rend(); ++it)
    if (it->kind == kind) return &*it;
  return nullptr;
}

}  // namespace trm
