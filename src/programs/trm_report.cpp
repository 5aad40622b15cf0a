// trm-report: one self-contained HTML page of how training went and what the model predicts.
//   trm-report RUN_DIR... [--output FILE] [--title TEXT] [--samples N]
// Each RUN_DIR is a training run (metrics.jsonl, eval_*/ folders of trm-eval, the trainer's
// arc_votes_step_<k>.json), a trm-eval output folder, or a metrics .jsonl file; several runs are
// overlaid. Missing or damaged inputs become notes on the page. Exit codes: 0 page written;
// 1 nothing at all to report (no metrics record and no predictions in any folder; no page is
// written) or the page could not be written; 2 bad command line.
#include <CLI/CLI.hpp>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "trm/report/report_file.hpp"
#include "trm/report/report_page.hpp"
#include "trm/report/run_data.hpp"

namespace {

constexpr int kExitNothing = 1;
constexpr int kExitUsage = 2;

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "trm-report: one self-contained HTML page with a run's training curves and its "
      "model's predictions (ARC votes, Sudoku/Maze samples)"};
  std::vector<std::string> paths;
  std::string output;
  trm::ReportPageOptions page;
  trm::RunDataOptions data;
  app.add_option("runs", paths, "run folders, trm-eval output folders or metrics .jsonl files")
      ->required();
  app.add_option("-o,--output", output,
                 "HTML file to write (default: <RUN_DIR>/report.html for one run, report.html "
                 "for several)");
  app.add_option("--title", page.title, "page title")->capture_default_str();
  app.add_option("--samples", data.sample_rows, "Sudoku/Maze puzzles drawn per run")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1000}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }

  try {
    std::vector<trm::RunData> runs;
    bool anything = false;
    for (const auto& p : paths) {
      runs.push_back(trm::collect_run_data(p, data));
      anything = anything || runs.back().has_content();
      for (const auto& note : runs.back().notes) std::cerr << "trm-report: " << note << "\n";
    }
    if (!anything) {
      std::cerr << "trm-report: nothing to report (no metrics.jsonl record and no predictions in "
                << paths.size() << " folder(s)); no page written\n";
      return kExitNothing;
    }
    trm::assign_run_names(runs);
    if (output.empty()) {
      output = paths.size() == 1
                   ? (std::filesystem::path(runs.front().dir) / "report.html").string()
                   : "report.html";
    }
    page.generated = utc_now();
    trm::write_report_file(output, trm::render_report_page(runs, page));
    std::cout << "report: " << output << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "trm-report: " << e.what() << std::endl;
    return kExitNothing;
  }
  return 0;
}
