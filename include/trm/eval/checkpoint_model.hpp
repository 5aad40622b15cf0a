// Loading a trained model for evaluation or inference (trm-eval, trm-solve): the checkpoint file
// (or the newest valid one of a run directory), its stored config (or another config file) with
// key=value overrides, the model built with the checkpoint's data shape on the device the config
// asks for, and the weights: the EMA copy when the checkpoint has one (unless told otherwise),
// else the raw weights, plus the puzzle-embedding table.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "trm/config/train_config.hpp"
#include "trm/model/tiny_recursive_model.hpp"

namespace trm {

struct CheckpointModelSpec {
  std::string checkpoint;              // a checkpoint file, or a run directory
  std::string config_file;             // empty: the config stored in the checkpoint
  std::vector<std::string> overrides;  // "key=value", applied to the config
  std::vector<std::string> data_dirs;  // non-empty: the datasets to evaluate on
  bool prefer_ema = true;
};

struct CheckpointModel {
  std::string path;  // the checkpoint file read
  TrainConfig config;
  DataShape shape;   // what the model was built for (from the checkpoint)
  int64_t step = -1;
  bool used_ema = false;
  torch::Device device{torch::kCPU};
  TinyRecursiveModel model{nullptr};

  // data_dirs of the spec, else the config's data_paths_test, else its data_paths.
  std::vector<std::string> test_dirs;
};

// CPU, or CUDA device local_rank % device_count when the config allows and CUDA exists.
torch::Device choose_eval_device(DeviceKind kind, int local_rank);

// Throws trm::Error naming the checkpoint (missing, damaged, no /config, weights that do not
// fit the config) with a hint.
CheckpointModel load_checkpoint_model(const CheckpointModelSpec& spec, int local_rank,
                                      std::ostream& log);

}  // namespace trm
