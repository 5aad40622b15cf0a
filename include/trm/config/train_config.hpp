// TrainConfig: the whole resolved configuration of one trm-dist run, with the reference's names
// (pretrain.py's PretrainConfig, config/cfg_pretrain.yaml) plus [arch] (ArchConfig). It is built
// once by load_train_config() (trm/config/config_loader.hpp), validated there, and then passed by
// const reference; nothing reads a config key by string afterwards.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trm/config/arch_config.hpp"

namespace trm {

enum class DeviceKind { kAuto, kCpu, kCuda };  // kAuto: CUDA when LibTorch has it, else CPU
enum class NanPolicy { kStop, kSkip };         // non-finite loss or gradients: stop, or skip the step
enum class DebugFailKind { kThrow, kKill };    // tests: throw an error, or SIGKILL the process

struct TrainConfig {
  // Where the config came from (not a key; used in error messages and printed as a comment).
  std::string source_path;

  // Names and paths.
  std::string run_name = "trm";
  std::vector<std::string> data_paths;       // HDF5 datasets written by trm-convert
  std::vector<std::string> data_paths_test;  // empty: the test split of data_paths
  std::string checkpoint_path;               // folder; empty: runs/<run_name>
  std::string metrics_path;                  // JSONL; empty: <checkpoint_path>/metrics.jsonl
  std::string load_checkpoint;               // reserved for --init-from (checkpoint issue)

  // Checkpoints and failure handling (docs/CHECKPOINTS.md).
  int64_t checkpoint_keep_last = 3;       // step files kept (best.h5 is kept besides)
  int64_t checkpoint_interval_steps = 0;  // > 0: also checkpoint every this many steps
  NanPolicy nan_policy = NanPolicy::kStop;
  // For tests of the failure paths only (docs/CHECKPOINTS.md): 0 disables each.
  int64_t debug_fail_at_step = 0;  // rank debug_fail_rank fails right after this step
  int64_t debug_fail_rank = 0;
  DebugFailKind debug_fail_kind = DebugFailKind::kThrow;
  int64_t debug_nan_at_step = 0;   // the loss of this step is made NaN on every rank

  // Schedule (counts of epochs and steps).
  int64_t global_batch_size = 768;  // samples per optimizer step, summed over ranks
  int64_t epochs = 100000;
  int64_t eval_interval = 0;        // epochs between evaluations; 0: evaluate once, at the end
  int64_t min_eval_interval = 0;    // first evaluation iteration index (as the reference)
  bool checkpoint_every_eval = true;
  int64_t max_steps = 0;            // > 0: stop after this many steps (tests, benchmarks)
  int64_t log_interval = 50;        // steps between progress lines on rank 0

  // Main optimizer (AdamATan2) and learning-rate schedule.
  double lr = 1e-4;
  double lr_min_ratio = 1.0;
  int64_t lr_warmup_steps = 2000;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double weight_decay = 0.1;

  // Puzzle embeddings (sign-SGD).
  double puzzle_emb_lr = 1e-2;
  double puzzle_emb_weight_decay = 0.1;

  bool ema = false;         // evaluate and checkpoint the EMA of the weights
  double ema_rate = 0.999;
  bool freeze_weights = false;  // train only the puzzle embeddings

  // Execution.
  uint64_t seed = 0;
  int64_t threads = 0;  // CPU threads per rank; 0: LibTorch's default
  DeviceKind device = DeviceKind::kAuto;
  int64_t eval_batch_size = 0;  // 0: global_batch_size

  ArchConfig arch;
};

}  // namespace trm
