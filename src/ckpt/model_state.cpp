// Model tensors <-> checkpoint groups (see trm/ckpt/model_state.hpp). Loading is strict: a name
// missing on either side or a shape mismatch is an error listing the offenders, so a checkpoint
// of another architecture can never be half-loaded.
#include "trm/ckpt/model_state.hpp"

#include <sstream>
#include <vector>

#include "trm/common/error.hpp"

namespace trm {
namespace {

std::string shape_str(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

// "a, b, c (and 7 more)"
std::string first_few(const std::vector<std::string>& names, size_t n = 4) {
  std::ostringstream os;
  for (size_t i = 0; i < names.size() && i < n; ++i) os << (i ? ", " : "") << names[i];
  if (names.size() > n) os << " (and " << names.size() - n << " more)";
  return os.str();
}

}  // namespace

TensorMap module_tensors(const torch::nn::Module& module) {
  TensorMap out;
  for (const auto& item : module.named_parameters(true)) out[item.key()] = item.value().detach();
  for (const auto& item : module.named_buffers(true)) out[item.key()] = item.value().detach();
  return out;
}

void add_model_to_checkpoint(CheckpointContent& content, const torch::nn::Module& model) {
  auto& dense = content.tensors["model"];
  for (const auto& [name, t] : module_tensors(model)) {
    if (name == kPuzzleEmbTableName)
      content.tensors["puzzle_emb"][name] = t.to(torch::kCPU);
    else
      dense[name] = t.to(torch::kCPU);
  }
}

void load_module_tensors(torch::nn::Module& module, const TensorMap& tensors,
                         const std::string& source) {
  const TensorMap own = module_tensors(module);
  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [name, t] : own) {
    auto it = tensors.find(name);
    if (it == tensors.end())
      missing.push_back(name);
    else if (it->second.sizes() != t.sizes())
      mismatched.push_back(name + " " + shape_str(it->second) + " vs model " + shape_str(t));
  }
  for (const auto& [name, t] : tensors)
    if (!own.count(name)) unexpected.push_back(name);
  TRM_CHECK(missing.empty() && unexpected.empty() && mismatched.empty(),
            source << " does not fit this model:"
                   << (missing.empty() ? "" : " missing " + first_few(missing) + ";")
                   << (unexpected.empty() ? "" : " unexpected " + first_few(unexpected) + ";")
                   << (mismatched.empty() ? "" : " shape differs for " + first_few(mismatched)),
            "use the arch.* settings the checkpoint was trained with (stored in its /config)");
  torch::NoGradGuard no_grad;
  for (const auto& [name, t] : own) {
    torch::Tensor dst = t;  // shares storage with the module's parameter/buffer
    dst.copy_(tensors.at(name));
  }
}

TensorMap checkpoint_weights(const CheckpointContent& content, bool prefer_ema,
                             const std::string& source) {
  TensorMap weights = content.group("model", source);
  if (content.has_group("puzzle_emb"))
    for (const auto& [name, t] : content.group("puzzle_emb", source)) weights[name] = t;
  if (prefer_ema && content.has_group("ema")) {
    for (const auto& [name, t] : content.group("ema", source)) {
      TRM_CHECK(weights.count(name), source << ": /ema/" << name << " has no /model counterpart",
                "the file is inconsistent; use another checkpoint");
      weights[name] = t;
    }
  }
  return weights;
}

void load_model_from_checkpoint(torch::nn::Module& model, const CheckpointContent& content,
                                const std::string& source) {
  load_module_tensors(model, checkpoint_weights(content, false, source), source);
}

void init_model_from_checkpoint(torch::nn::Module& model, const std::string& path,
                                bool prefer_ema, std::ostream& log) {
  CheckpointReadOptions options;
  options.groups = {"model", "ema", "puzzle_emb"};
  const CheckpointContent content = read_checkpoint_file(path, options);
  TensorMap weights = checkpoint_weights(content, prefer_ema, path);

  // The reference's fine-tuning rule: a puzzle table with another number of rows (another
  // dataset) is replaced by the mean row, repeated.
  const TensorMap own = module_tensors(model);
  auto own_table = own.find(kPuzzleEmbTableName);
  auto table = weights.find(kPuzzleEmbTableName);
  if (own_table != own.end() && table != weights.end() &&
      table->second.sizes() != own_table->second.sizes()) {
    TRM_CHECK(table->second.dim() == 2 && own_table->second.dim() == 2 &&
                  table->second.size(1) == own_table->second.size(1),
              path << ": puzzle embedding " << shape_str(table->second) << " cannot be resized to "
                   << shape_str(own_table->second) << " (the embedding width differs)",
              "use the same arch.puzzle_emb_ndim as the checkpoint");
    log << "init-from: puzzle embedding " << shape_str(table->second) << " reset to the mean row"
        << " repeated to " << shape_str(own_table->second) << "\n";
    table->second = table->second.mean(0, true).expand(own_table->second.sizes()).contiguous();
  }
  load_module_tensors(model, weights, path);
  log << "init-from: loaded " << (prefer_ema && content.has_group("ema") ? "EMA" : "raw")
      << " weights from " << path << "\n";
}

}  // namespace trm
