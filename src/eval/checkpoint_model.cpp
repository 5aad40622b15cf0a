// load_checkpoint_model (see checkpoint_model.hpp): one read of the checkpoint (model, ema and
// puzzle_emb groups, checksum verified), config from /config or the given file, then strict
// loading of the weights (every tensor of the model must be present with its shape).
#include "trm/eval/checkpoint_model.hpp"

#include <filesystem>

#include "trm/ckpt/checkpoint_file.hpp"
#include "trm/ckpt/checkpoint_store.hpp"
#include "trm/ckpt/model_state.hpp"
#include "trm/common/error.hpp"
#include "trm/config/config_loader.hpp"

namespace trm {

torch::Device choose_eval_device(DeviceKind kind, int local_rank) {
  const bool cuda = torch::cuda::is_available();
  TRM_CHECK(kind != DeviceKind::kCuda || cuda, "device = \"cuda\" but no CUDA device is available",
            "pass device=\"cpu\" or device=\"auto\"");
  if (kind == DeviceKind::kCpu || !cuda) return torch::Device(torch::kCPU);
  return torch::Device(torch::kCUDA,
                       static_cast<c10::DeviceIndex>(local_rank % torch::cuda::device_count()));
}

CheckpointModel load_checkpoint_model(const CheckpointModelSpec& spec, int local_rank,
                                      std::ostream& log) {
  TRM_CHECK(!spec.checkpoint.empty(), "no checkpoint given", "pass --checkpoint PATH");
  CheckpointModel out;
  out.path = spec.checkpoint;
  if (std::filesystem::is_directory(spec.checkpoint)) {
    const auto latest = find_latest_valid_checkpoint(spec.checkpoint, log);
    TRM_CHECK(latest.has_value(), spec.checkpoint << " holds no valid checkpoint",
              "pass a checkpoint file (step_*.h5, best.h5) or a run directory that has one");
    out.path = *latest;
  }
  TRM_CHECK(std::filesystem::exists(out.path), "checkpoint " << out.path << " does not exist",
            "pass a checkpoint file written by trm-dist (runs/<run>/step_*.h5)");
  CheckpointReadOptions read;
  read.groups = {"model", "ema", "puzzle_emb"};
  const CheckpointContent content = read_checkpoint_file(out.path, read);

  if (spec.config_file.empty()) {
    out.config = parse_train_config(content.text("config", out.path), out.path + ":/config",
                                    spec.overrides);
  } else {
    out.config = load_train_config(spec.config_file, spec.overrides);
  }
  if (!spec.data_dirs.empty()) out.test_dirs = spec.data_dirs;
  else if (!out.config.data_paths_test.empty()) out.test_dirs = out.config.data_paths_test;
  else out.test_dirs = out.config.data_paths;

  out.shape.seq_len = content.int_value("data.seq_len", out.path);
  out.shape.vocab_size = content.int_value("data.vocab_size", out.path);
  out.shape.num_puzzle_identifiers = content.int_value("data.num_puzzle_identifiers", out.path);
  if (content.ints.count("step")) out.step = content.ints.at("step");
  out.used_ema = spec.prefer_ema && content.has_group("ema");

  out.device = choose_eval_device(out.config.device, local_rank);
  out.model = TinyRecursiveModel(out.config.arch, out.shape, out.device);
  out.model->to(out.device);
  load_module_tensors(*out.model, checkpoint_weights(content, spec.prefer_ema, out.path), out.path);
  out.model->eval();
  log << "loaded " << (out.used_ema ? "EMA" : "raw") << " weights of step " << out.step
      << " from " << out.path << "\n";
  return out;
}

}  // namespace trm
