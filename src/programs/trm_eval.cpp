// trm-eval: evaluate a checkpoint on the test split of a dataset, data-parallel like trm-dist.
//   mpirun -np N trm-eval --checkpoint PATH [--data DIR] [--config FILE] [key=value ...]
//                         [--output DIR] [--save-outputs] [--raw-weights]
// Prints and writes the metrics (exact and token accuracy; ARC: pass@K with augmentation voting
// and submission.json). Exit codes: 0 done; 1 runtime failure (all ranks aborted); 2 bad
// command line.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "trm/common/error.hpp"
#include "trm/data/json.hpp"
#include "trm/dist/communicator.hpp"
#include "trm/eval/arc_evaluator.hpp"
#include "trm/eval/arc_submission.hpp"
#include "trm/eval/arc_votes_file.hpp"
#include "trm/eval/checkpoint_model.hpp"
#include "trm/eval/eval_outputs_file.hpp"
#include "trm/eval/evaluate.hpp"
#include "trm/eval/output_files.hpp"
#include "trm/eval/test_split.hpp"

namespace {

const char* kUsage =
    "usage: trm-eval --checkpoint PATH [--data DIR] [--config FILE] [key=value ...]\n"
    "                [--output DIR] [--save-outputs] [--raw-weights]\n"
    "  PATH: a checkpoint file (step_*.h5, best.h5) or a run directory (its newest valid one)\n"
    "  --data DIR       evaluate on this dataset's test split (default: the config's datasets)\n"
    "  --config FILE    use this config instead of the one stored in the checkpoint\n"
    "  key=value        config overrides, e.g. eval_batch_size=256 device=\"cpu\"\n"
    "  --output DIR     where metrics, submission.json and outputs go\n"
    "                   (default: <checkpoint dir>/eval_<checkpoint name>)\n"
    "  --save-outputs   also write eval_outputs.h5 (inputs, labels, identifiers, preds, q_halt)\n"
    "  --raw-weights    evaluate the raw weights even when the checkpoint has an EMA copy\n";

struct Args {
  trm::CheckpointModelSpec spec;
  std::string output;
  bool save_outputs = false;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      TRM_CHECK(i + 1 < argc, arg << " needs a value\n" << kUsage, "see trm-eval --help");
      return argv[++i];
    };
    if (arg == "--checkpoint") a.spec.checkpoint = value();
    else if (arg == "--data") a.spec.data_dirs.push_back(value());
    else if (arg == "--config") a.spec.config_file = value();
    else if (arg == "--output") a.output = value();
    else if (arg == "--save-outputs") a.save_outputs = true;
    else if (arg == "--raw-weights") a.spec.prefer_ema = false;
    else if (arg == "--help" || arg == "-h") TRM_FAIL(kUsage, "");
    else if (arg.find('=') != std::string::npos && arg.rfind("--", 0) != 0) a.spec.overrides.push_back(arg);
    else TRM_FAIL("unexpected argument '" << arg << "'\n" << kUsage, "overrides are written key=value");
  }
  TRM_CHECK(!a.spec.checkpoint.empty(), "no --checkpoint given\n" << kUsage, "pass --checkpoint PATH");
  return a;
}

std::string default_output_dir(const std::string& checkpoint_file) {
  const std::filesystem::path p(checkpoint_file);
  return (p.parent_path() / ("eval_" + p.stem().string())).string();
}

void report(const trm::EvalResult& r, const trm::CheckpointModel& m, const std::string& out_dir,
            const trm::ArcEvaluator* arc) {
  std::cout << "trm-eval: " << m.path << " (step " << m.step << ", " << (m.used_ema ? "EMA" : "raw")
            << " weights) on " << m.test_dirs.front() << "\n";
  trm::JsonValue::Object metrics;
  for (const auto& [k, v] : r.metrics) {
    std::cout << "  " << std::left << std::setw(28) << k << std::setprecision(6) << v << "\n";
    metrics.emplace_back(k, trm::JsonValue::make_number(v));
  }
  trm::JsonValue::Object doc;
  doc.emplace_back("checkpoint", trm::JsonValue::make_string(m.path));
  doc.emplace_back("step", trm::JsonValue::make_number(static_cast<double>(m.step)));
  doc.emplace_back("weights", trm::JsonValue::make_string(m.used_ema ? "ema" : "raw"));
  trm::JsonValue::Array dirs;
  for (const auto& d : m.test_dirs) dirs.push_back(trm::JsonValue::make_string(d));
  doc.emplace_back("data", trm::JsonValue::make_array(std::move(dirs)));
  doc.emplace_back("metrics", trm::JsonValue::make_object(std::move(metrics)));
  doc.emplace_back("seconds", trm::JsonValue::make_number(r.seconds));
  if (r.arc) {
    const auto& missing = r.arc->puzzles_without_predictions;
    trm::JsonValue::Array names;
    for (const auto& id : missing) names.push_back(trm::JsonValue::make_string(id));
    doc.emplace_back("puzzles_without_predictions", trm::JsonValue::make_array(std::move(names)));
    if (!missing.empty()) {
      std::cout << "  " << missing.size() << " puzzle(s) without a prediction for some test input:";
      for (size_t i = 0; i < missing.size() && i < 20; ++i) std::cout << " " << missing[i];
      std::cout << (missing.size() > 20 ? " ...\n" : "\n");
    }
    if (r.arc->num_unmatched_records > 0) {
      std::cout << "  " << r.arc->num_unmatched_records
                << " prediction(s) matched no test input of test_puzzles.json\n";
    }
    trm::write_arc_submission(*r.arc, out_dir + "/submission.json");
    std::cout << "  submission: " << out_dir << "/submission.json\n";
    trm::write_arc_votes(*r.arc, arc->test_puzzles(), m.step, out_dir + "/arc_votes.json");
    std::cout << "  votes (trm-report): " << out_dir << "/arc_votes.json\n";
  }
  trm::write_text_file_atomic(out_dir + "/eval_metrics.json", trm::to_json(trm::JsonValue::make_object(std::move(doc))) + "\n");
  std::cout << "  metrics: " << out_dir << "/eval_metrics.json\n" << std::flush;
}

}  // namespace

int main(int argc, char** argv) {
  trm::MpiSession mpi(&argc, &argv);
  std::unique_ptr<trm::Communicator> control = trm::make_mpi_communicator();
  Args args;
  try {
    args = parse_args(argc, argv);
  } catch (const std::exception& e) {
    if (control->rank() == 0) std::cerr << "trm-eval: " << e.what() << std::endl;
    return 2;
  }
  try {
    std::ostream null_stream(nullptr);  // ranks other than 0 stay quiet
    std::ostream& log = control->rank() == 0 ? std::cout : null_stream;
    trm::CheckpointModel m = trm::load_checkpoint_model(args.spec, control->local_rank(), log);
    std::unique_ptr<trm::Communicator> comm = trm::make_communicator(m.device);
    const std::string out_dir = args.output.empty() ? default_output_dir(m.path) : args.output;
    const int64_t batch = m.config.eval_batch_size > 0 ? m.config.eval_batch_size : m.config.global_batch_size;
    trm::TestSplit split(m.test_dirs, batch, comm->rank(), comm->world_size());
    std::optional<trm::ArcEvaluator> arc;
    if (split.info().kind == "arc") arc.emplace(trm::ArcEvaluator::from_dataset(m.test_dirs, split.info().blank_identifier_id));
    trm::ActLossHead loss_head(m.config.arch.loss_type, split.info().ignore_label_id);
    trm::EvalOptions options;
    options.collect_outputs = args.save_outputs;
    const trm::EvalResult r = trm::evaluate_test_split(m.model, loss_head, split, *comm, arc ? &*arc : nullptr, options);
    if (args.save_outputs) {
      trm::write_eval_outputs(out_dir + "/eval_outputs.h5", r.rows, split.info().num_examples, *control,
                              split.info().kind);
      if (control->rank() == 0) std::cout << "  outputs: " << out_dir << "/eval_outputs.h5\n";
    }
    if (control->rank() == 0) report(r, m, out_dir, arc ? &*arc : nullptr);
  } catch (const std::exception& e) {
    std::cerr << "trm-eval: rank " << control->rank() << ": " << e.what() << std::endl;
    if (control->world_size() > 1) control->abort(1);  // peers may be blocked in a collective
    return 1;
  }
  return 0;
}
