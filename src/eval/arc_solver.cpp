// solve_arc_task and its helpers (see arc_solver.hpp). Rows are (variant, test input) pairs in
// variant-major order; their position is the example index that breaks exact vote ties.
#include "trm/eval/arc_solver.hpp"

#include <sstream>

#include "trm/common/error.hpp"
#include "trm/data/json.hpp"
#include "trm/eval/arc_crop.hpp"
#include "trm/model/model_batch.hpp"

namespace trm {

std::vector<ArcVariant> arc_variants_of(const std::vector<std::string>& identifier_names,
                                        const std::string& puzzle_id) {
  std::vector<ArcVariant> out;
  for (size_t i = 0; i < identifier_names.size(); ++i) {
    const std::string& name = identifier_names[i];
    if (name.compare(0, puzzle_id.size(), puzzle_id) != 0) continue;  // cheap prefix filter
    const ParsedPuzzleName parsed = parse_puzzle_name(name);
    if (parsed.base != puzzle_id) continue;
    out.push_back({static_cast<int32_t>(i), name, parsed.aug});
  }
  return out;
}

ArcVoteResult solve_arc_task(TinyRecursiveModel& model, const ArcPuzzle& task,
                             const std::vector<std::string>& identifier_names,
                             int64_t batch_size, const ArcVoteOptions& options) {
  const std::vector<ArcVariant> variants = arc_variants_of(identifier_names, task.id);
  TRM_CHECK(!variants.empty(),
            "puzzle '" << task.id << "' is not one of the "
                       << (identifier_names.empty() ? 0 : identifier_names.size() - 1)
                       << " puzzle identifiers this checkpoint was trained with",
            "TRM learns an embedding per puzzle, so it can only answer puzzles whose (augmented) "
            "identifiers were in its training data. The reference handles new puzzles by "
            "fine-tuning: convert them into a dataset with trm-convert, then train only the "
            "puzzle embeddings from this checkpoint with the weights frozen "
            "(freeze_weights = true), and solve with the resulting checkpoint");
  TRM_CHECK(model->shape().seq_len == kArcCanvasCells,
            "the model works on sequences of " << model->shape().seq_len << " tokens",
            "trm-solve needs a model trained on an ARC dataset (30x30 = 900 tokens)");
  TRM_CHECK(batch_size >= 1, "batch size " << batch_size, "use a positive batch size");
  for (const auto& v : variants) {
    TRM_CHECK(v.identifier < model->shape().num_puzzle_identifiers,
              "identifier " << v.identifier << " (" << v.name << ") is beyond the model's "
                            << model->shape().num_puzzle_identifiers << " puzzle embeddings",
              "use the identifiers.json of the dataset the checkpoint was trained on");
  }
  ArcTestPuzzles puzzles;
  std::vector<ArcTestPair>& pairs = puzzles[task.id];
  for (const auto& ex : task.test) pairs.push_back({ex.input, ex.has_output, ex.output});

  torch::NoGradGuard no_grad;
  model->eval();
  torch::Device device = torch::kCPU;
  for (const auto& p : model->parameters()) {
    device = p.device();
    break;
  }
  const int64_t total = static_cast<int64_t>(variants.size() * pairs.size());
  ArcPredictionSet predictions;
  std::vector<int64_t> canvas(kArcCanvasCells);
  for (int64_t start = 0; start < total; start += batch_size) {
    const int64_t rows = std::min(batch_size, total - start);
    torch::Tensor inputs = torch::zeros({rows, kArcCanvasCells}, torch::kInt32);
    torch::Tensor ids = torch::zeros({rows}, torch::kInt32);
    auto input_acc = inputs.accessor<int32_t, 2>();
    auto id_acc = ids.accessor<int32_t, 1>();
    std::vector<Grid> augmented_inputs;
    for (int64_t r = 0; r < rows; ++r) {
      const auto& v = variants[static_cast<size_t>((start + r) / pairs.size())];
      const auto& pair = pairs[static_cast<size_t>((start + r) % pairs.size())];
      augmented_inputs.push_back(apply_augmentation(pair.input, v.aug));
      encode_arc_canvas(augmented_inputs.back(), canvas.data());
      for (int i = 0; i < kArcCanvasCells; ++i) input_acc[r][i] = static_cast<int32_t>(canvas[i]);
      id_acc[r] = v.identifier;
    }
    // Labels only travel with the carry; nothing is scored against them here.
    ModelBatch batch{inputs.to(device), torch::zeros_like(inputs).to(device), ids.to(device)};
    ActCarry carry = model->initial_carry(batch);
    ModelOutputs outputs;
    for (int64_t s = 0; s < model->arch().halt_max_steps; ++s) {
      ActStep step = model->forward(carry, batch);
      carry = std::move(step.carry);
      outputs = std::move(step.outputs);
    }
    const torch::Tensor preds = outputs.logits.argmax(-1).to(torch::kCPU, torch::kInt64).contiguous();
    const torch::Tensor q = outputs.q_halt_logits.to(torch::kCPU, torch::kFloat32).contiguous();
    for (int64_t r = 0; r < rows; ++r) {
      const auto& v = variants[static_cast<size_t>((start + r) / pairs.size())];
      predictions.add(v.name, augmented_inputs[r],
                      crop_arc_tokens(preds.data_ptr<int64_t>() + r * kArcCanvasCells),
                      q.data_ptr<float>()[r], static_cast<uint64_t>(start + r));
    }
  }
  return vote_arc_predictions(predictions, puzzles, options);
}

ArcPuzzle load_arc_task_file(const std::string& path, const std::string& puzzle_id) {
  const JsonValue doc = parse_json_file(path);
  TRM_CHECK(doc.is_object(), path << " is not a JSON object",
            "an ARC task file is {\"train\": [...], \"test\": [{\"input\": grid}, ...]}");
  ArcPuzzle task;
  task.id = puzzle_id;
  for (const char* part : {"train", "test"}) {
    const JsonValue* list = doc.find(part);
    TRM_CHECK(list != nullptr && list->is_array(), path << " has no \"" << part << "\" list",
              "an ARC task file is {\"train\": [...], \"test\": [{\"input\": grid}, ...]}");
    for (size_t i = 0; i < list->as_array().size(); ++i) {
      const JsonValue& ex = list->as_array()[i];
      const std::string where = path + ": " + part + "[" + std::to_string(i) + "]";
      TRM_CHECK(ex.is_object() && ex.find("input") != nullptr, where << " has no \"input\"",
                "every example needs an input grid");
      ArcExample e;
      e.input = arc_grid_from_json(*ex.find("input"), where + ".input");
      const JsonValue* output = ex.find("output");
      e.has_output = output != nullptr;
      if (output) e.output = arc_grid_from_json(*output, where + ".output");
      (std::string(part) == "train" ? task.train : task.test).push_back(std::move(e));
    }
  }
  TRM_CHECK(!task.test.empty(), path << " has no test input", "add the test inputs to solve");
  return task;
}

}  // namespace trm
