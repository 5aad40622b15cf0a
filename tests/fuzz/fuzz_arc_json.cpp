// libFuzzer target: the ARC task readers through their file-level API (paths in, ArcSubset out),
// so it does not depend on which JSON parser is behind them. The input is split at the first
// 0x1e byte into a challenges file and an optional solutions file (Kaggle layout); the same two
// files also form a task directory (a.json, b.json) for load_arc_task_dir.
#include <cstdint>
#include <iostream>
#include <string>

#include "fuzz_util.hpp"
#include "trm/data/arc_puzzle.hpp"

namespace {

void check_subset(const trm::ArcSubset& s) {
  for (const trm::ArcPuzzle& p : s.puzzles) {
    if (p.train.empty() || p.test.empty()) trm_fuzz::finding("accepted a puzzle without examples", p.id.c_str());
    for (const auto* list : {&p.train, &p.test}) {
      for (const trm::ArcExample& e : *list) {
        for (const trm::Grid* g : {&e.input, &e.output}) {
          const bool ok = g->rows >= 1 && g->rows <= 30 && g->cols >= 1 && g->cols <= 30 &&
                          g->cells.size() == static_cast<size_t>(g->rows * g->cols);
          if (!ok) trm_fuzz::finding("accepted a malformed grid", p.id.c_str());
          for (const uint8_t c : g->cells) {
            if (c > 9) trm_fuzz::finding("accepted a colour outside 0..9", p.id.c_str());
          }
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    std::cerr.rdbuf(nullptr);  // the "no solutions file" warning on every input
    return true;
  }();
  (void)quiet;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t sep = input.find('\x1e');
  const std::string challenges = input.substr(0, sep);
  namespace fs = std::filesystem;
  const fs::path dir = trm_fuzz::scratch_dir() / "arc";
  fs::remove_all(dir);
  const std::string prefix = (dir / "kaggle").string();
  trm_fuzz::write_file("arc/kaggle_sub_challenges.json", challenges.data(), challenges.size());
  trm_fuzz::write_file("arc/tasks/a.json", challenges.data(), challenges.size());
  if (sep != std::string::npos) {
    const std::string solutions = input.substr(sep + 1);
    trm_fuzz::write_file("arc/kaggle_sub_solutions.json", solutions.data(), solutions.size());
    trm_fuzz::write_file("arc/tasks/b.json", solutions.data(), solutions.size());
  }
  trm_fuzz::accepts([&] { check_subset(trm::load_arc_kaggle_subset(prefix, "sub")); });
  trm_fuzz::accepts([&] { check_subset(trm::load_arc_task_dir((dir / "tasks").string())); });
  return 0;
}
