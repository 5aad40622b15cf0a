// trm-solve: answer one ARC task with a trained checkpoint.
//   trm-solve --checkpoint PATH --task task.json [--puzzle-id ID] [--data DIR] [--output FILE]
//             [--raw-weights] [key=value ...]
// Runs the model under every augmented identifier of the puzzle the checkpoint knows, votes, and
// prints the top-2 grids per test input; writes them in the Kaggle submission format. Exit codes:
// 0 done; 1 runtime failure (unknown puzzle, bad task file, ...); 2 bad command line.
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "trm/common/error.hpp"
#include "trm/data/json.hpp"
#include "trm/eval/arc_evaluator.hpp"
#include "trm/eval/arc_solver.hpp"
#include "trm/eval/arc_submission.hpp"
#include "trm/eval/checkpoint_model.hpp"
#include "trm/eval/output_files.hpp"

namespace {

const char* kUsage =
    "usage: trm-solve --checkpoint PATH --task task.json [--puzzle-id ID] [--data DIR]\n"
    "                 [--output FILE] [--raw-weights] [key=value ...]\n"
    "  --task FILE      {\"train\": [...], \"test\": [{\"input\": grid}, ...]} (outputs optional)\n"
    "  --puzzle-id ID   the puzzle's id in the training data (default: the file name, e.g.\n"
    "                   00576224 for 00576224.json)\n"
    "  --data DIR       dataset whose identifiers.json names the puzzles (default: the\n"
    "                   checkpoint config's data_paths)\n"
    "  --output FILE    answers in Kaggle submission format (default: <ID>_answers.json)\n";

struct Args {
  trm::CheckpointModelSpec spec;
  std::string task;
  std::string puzzle_id;
  std::string output;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      TRM_CHECK(i + 1 < argc, arg << " needs a value\n" << kUsage, "see trm-solve --help");
      return argv[++i];
    };
    if (arg == "--checkpoint") a.spec.checkpoint = value();
    else if (arg == "--task") a.task = value();
    else if (arg == "--puzzle-id") a.puzzle_id = value();
    else if (arg == "--data") a.spec.data_dirs.push_back(value());
    else if (arg == "--output") a.output = value();
    else if (arg == "--raw-weights") a.spec.prefer_ema = false;
    else if (arg == "--help" || arg == "-h") TRM_FAIL(kUsage, "");
    else if (arg.find('=') != std::string::npos && arg.rfind("--", 0) != 0) a.spec.overrides.push_back(arg);
    else TRM_FAIL("unexpected argument '" << arg << "'\n" << kUsage, "overrides are written key=value");
  }
  TRM_CHECK(!a.spec.checkpoint.empty() && !a.task.empty(), "--checkpoint and --task are required\n" << kUsage,
            "pass both");
  if (a.puzzle_id.empty()) a.puzzle_id = std::filesystem::path(a.task).stem().string();
  if (a.output.empty()) a.output = a.puzzle_id + "_answers.json";
  return a;
}

void print_grid(const trm::Grid& g) {
  for (int r = 0; r < g.rows; ++r) {
    std::cout << "    ";
    for (int c = 0; c < g.cols; ++c) std::cout << int(g.at(r, c));
    std::cout << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  try {
    args = parse_args(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "trm-solve: " << e.what() << std::endl;
    return 2;
  }
  try {
    const trm::ArcPuzzle task = trm::load_arc_task_file(args.task, args.puzzle_id);
    trm::CheckpointModel m = trm::load_checkpoint_model(args.spec, 0, std::cout);
    // Identifiers come from the datasets the model was trained on (their identifiers.json).
    const std::vector<std::string> dirs = args.spec.data_dirs.empty() ? m.config.data_paths : args.spec.data_dirs;
    const std::vector<std::string> names = trm::dataset_identifier_names(dirs);
    const int64_t batch = m.config.eval_batch_size > 0 ? m.config.eval_batch_size : m.config.global_batch_size;
    const trm::ArcVoteResult vote = trm::solve_arc_task(m.model, task, names, batch);

    const auto& tests = vote.puzzles.at(0).tests;
    std::cout << "puzzle " << task.id << ": " << trm::arc_variants_of(names, task.id).size()
              << " augmented variants voted\n";
    for (size_t t = 0; t < tests.size(); ++t) {
      const auto& tv = tests[t];
      std::cout << "test input " << t << ": " << tv.num_candidates << " distinct grids from "
                << tv.num_votes << " votes\n";
      for (size_t k = 0; k < tv.top.size(); ++k) {
        std::cout << "  attempt " << k + 1 << " (" << tv.top[k].votes << " votes, mean q "
                  << tv.top[k].mean_q << ", " << tv.top[k].grid.rows << "x" << tv.top[k].grid.cols << "):\n";
        print_grid(tv.top[k].grid);
      }
      if (tv.has_label) {
        std::cout << "  known output: "
                  << (tv.label_rank == 0   ? "attempt 1 is right"
                      : tv.label_rank == 1 ? "attempt 2 is right"
                      : tv.label_rank > 1  ? "right answer ranked " + std::to_string(tv.label_rank + 1)
                                           : std::string("never predicted"))
                  << "\n";
      }
    }
    trm::write_arc_submission(vote, args.output);
    std::cout << "answers: " << args.output << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "trm-solve: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
