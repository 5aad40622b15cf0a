// evaluate_test_split (see evaluate.hpp). Per batch: initial carry, halt_max_steps forward steps,
// the loss head on the final step only (its metrics are what the reference accumulates: every
// sample halts at the last step), then the metric sums, the copy-input baseline, the ARC
// evaluator and, optionally, the rows for --save-outputs. One all-reduce at the end.
#include "trm/eval/evaluate.hpp"

#include <chrono>
#include <iomanip>

#include "trm/common/error.hpp"
#include "trm/eval/arc_crop.hpp"

namespace trm {
namespace {

template <typename T>
void append(std::vector<T>& out, const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  out.insert(out.end(), c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
}

}  // namespace

EvalResult evaluate_test_split(TinyRecursiveModel& model, const ActLossHead& loss_head,
                               TestSplit& split, Communicator& comm, ArcEvaluator* arc,
                               const EvalOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const TestSplitInfo& info = split.info();
  TRM_CHECK(info.seq_len == model->shape().seq_len && info.vocab_size == model->shape().vocab_size,
            "the test split of " << info.dirs.front() << " has seq_len " << info.seq_len
                                 << " and vocab " << info.vocab_size << ", the model "
                                 << model->shape().seq_len << " and " << model->shape().vocab_size,
            "evaluate on a dataset converted for the task the model was trained on");
  TRM_CHECK(info.num_puzzle_identifiers <= model->shape().num_puzzle_identifiers,
            "the test split of " << info.dirs.front() << " uses " << info.num_puzzle_identifiers
                                 << " puzzle identifiers, the model knows "
                                 << model->shape().num_puzzle_identifiers,
            "evaluate on the dataset the model was trained on (its identifiers index the "
            "learned puzzle embeddings)");
  TRM_CHECK(arc == nullptr || info.seq_len == kArcCanvasCells,
            "ARC voting on a dataset with seq_len " << info.seq_len,
            "ARC datasets have 30x30 = 900 tokens per example");

  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  torch::Device device = torch::kCPU;
  for (const auto& p : model->parameters()) {
    device = p.device();
    break;
  }
  const int64_t steps = model->arch().halt_max_steps;
  const bool log = options.log != nullptr && comm.rank() == 0;

  EvalResult result;
  result.rows.seq_len = info.seq_len;
  if (arc) arc->begin();
  torch::Tensor sums = torch::zeros({static_cast<int64_t>(ActMetrics::names().size())},
                                    torch::kFloat64);
  double copy_exact = 0, copy_count = 0;
  split.reset();
  EvalBatch b;
  int64_t batch_index = 0;
  while (split.next(&b)) {
    ModelBatch mb{b.inputs.to(device), b.labels.to(device), b.puzzle_identifiers.to(device)};
    ActCarry carry = model->initial_carry(mb);
    ModelOutputs outputs;
    for (int64_t s = 0; s < steps; ++s) {
      ActStep out = model->forward(carry, mb);
      carry = std::move(out.carry);
      outputs = std::move(out.outputs);
    }
    const LossOutputs lo = loss_head(carry, outputs);
    sums += lo.metrics.stacked().to(torch::kCPU, torch::kFloat64);

    // Copy-input baseline over the rows that have at least one valid label.
    const torch::Tensor valid = b.labels != kIgnoreLabelId;
    const torch::Tensor has_valid = valid.any(1);
    const torch::Tensor same = ((b.inputs == b.labels) | ~valid).all(1) & has_valid;
    copy_exact += same.sum().item<double>();
    copy_count += has_valid.sum().item<double>();

    const int64_t real = b.real_rows;
    const torch::Tensor preds = lo.preds.narrow(0, 0, real).to(torch::kCPU, torch::kInt64).contiguous();
    const torch::Tensor q = outputs.q_halt_logits.narrow(0, 0, real).to(torch::kCPU, torch::kFloat32).contiguous();
    if (arc && real > 0) {
      arc->add_batch(real, b.puzzle_identifiers.data_ptr<int32_t>(), b.inputs.data_ptr<int32_t>(),
                     preds.data_ptr<int64_t>(), q.data_ptr<float>(),
                     b.example_indices.data_ptr<int64_t>());
    }
    if (options.collect_outputs && real > 0) {
      EvalRows& r = result.rows;
      append<int64_t>(r.example_indices, b.example_indices.narrow(0, 0, real));
      append<int32_t>(r.inputs, b.inputs.narrow(0, 0, real));
      append<int32_t>(r.labels, b.labels.narrow(0, 0, real));
      append<int32_t>(r.puzzle_identifiers, b.puzzle_identifiers.narrow(0, 0, real));
      append<int32_t>(r.preds, preds.to(torch::kInt32));
      append<float>(r.q_halt_logits, q);
    }
    ++batch_index;
    if (log) {
      *options.log << "eval batch " << batch_index << "/" << info.num_batches << "\n"
                   << std::flush;
    }
  }
  model->train(was_training);

  torch::Tensor all =
      torch::cat({sums, torch::tensor({copy_exact, copy_count}, torch::kFloat64)}).contiguous();
  comm.all_reduce_sum(all);
  const auto acc = all.accessor<double, 1>();
  const auto& names = ActMetrics::names();
  const double count = std::max(acc[0], 1.0);
  for (size_t i = 0; i < names.size(); ++i) {
    result.metrics[names[i]] = names[i] == "count" ? acc[i] : acc[i] / count;
  }
  const size_t n = names.size();
  result.metrics["copy_input_exact_accuracy"] = acc[n] / std::max(acc[n + 1], 1.0);
  if (arc) {
    result.arc = arc->finish(communicator_gather(comm));
    if (result.arc) {
      for (const auto& [k, v] : result.arc->metrics()) result.metrics[k] = v;
    }
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace trm
