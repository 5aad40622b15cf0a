// Trainer: the data-parallel training loop of trm-dist (pretrain.py's launch/train_batch/evaluate).
// Protocol per step, on every rank (rank 0 is the coordinator):
//   1. take this rank's rows of the next global batch (same global sequence for any world size);
//   2. one ACT supervision step from the persistent carry (halted samples take new rows);
//   3. backward of loss / global_batch_size;
//   4. one fused all-reduce (sum) of all dense gradients;
//   5. sign-SGD on the puzzle rows touched anywhere (ids + grads all-gathered), AdamATan2 on the
//      dense weights, both at the scheduled lr; EMA update;
//   6. metric sums all-reduced; rank 0 prints progress and appends to the JSONL log.
// Every eval_interval epochs (and at the end) the test split is evaluated (EMA weights when
// ema = true) and rank 0 writes a checkpoint. Parameters and buffers are broadcast from rank 0
// at start, so every rank holds identical weights throughout.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "trm/ckpt/checkpoint_file.hpp"
#include "trm/config/train_config.hpp"
#include "trm/dist/communicator.hpp"
#include "trm/dist/grad_bucketer.hpp"
#include "trm/model/act_loss_head.hpp"
#include "trm/model/tiny_recursive_model.hpp"
#include "trm/train/adam_atan2.hpp"
#include "trm/train/ema.hpp"
#include "trm/train/sparse_sign_sgd.hpp"
#include "trm/train/train_data.hpp"

namespace trm {

// What main() hands down: who this process is and how it talks to the others.
struct RunContext {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  torch::Device device{torch::kCPU};
  Communicator* comm = nullptr;  // required
  std::ostream* out = nullptr;   // progress and messages (used on rank 0 only); null: silent
};

using Metrics = std::map<std::string, double>;

// Seconds spent per phase since construction (this rank), for benchmarks.
struct StepTimes {
  double data = 0, forward_backward = 0, all_reduce = 0, optimizer = 0, total = 0;
  int64_t steps = 0;
};

class Trainer {
 public:
  // Opens the datasets, builds the model (seeded, identical on every rank after the broadcast),
  // the optimizers and the EMA. Collective.
  Trainer(const TrainConfig& config, RunContext ctx);
  ~Trainer();

  // The whole run: train, evaluate every eval_interval epochs and at the end, checkpoint.
  // Returns the last evaluation's metrics (on every rank).
  Metrics run();

  // One optimizer step on the next batch; returns the reduced train metrics (every rank).
  Metrics train_step();
  // The test split through the eval module's evaluate_test_split (trm/eval/evaluate.hpp):
  // exact_accuracy, accuracy, copy_input_exact_accuracy, ..., eval_seconds, and for ARC datasets
  // ARC/pass@K with <checkpoint_path>/submission_step_<step>.json (rank 0). Collective. Uses the
  // EMA weights when ema = true; the trained weights are back in the model afterwards.
  Metrics evaluate();
  // Writes a checkpoint through the CheckpointStore at checkpoint_path (rank 0 writes; the call
  // is collective because RNG states are gathered). Returns the path (rank 0) or "".
  std::string save_checkpoint(std::optional<double> eval_metric = std::nullopt);
  // Everything a checkpoint holds (collective; complete on rank 0).
  CheckpointContent checkpoint_content();
  // Restores everything `content` (read by every rank) holds: weights, puzzle table, EMA,
  // AdamATan2 moments and step count, step, epoch, sampler position, this rank's generator (same
  // world size only) and this rank's slice of the ACT carry. Refuses arch.*/global_batch_size or
  // data-shape changes (trm::Error naming the keys); logs the allowed config changes.
  void restore(const CheckpointContent& content, const std::string& source);

  // --- Resume, --init-from and stopping (src/train/trainer_checkpoint.cpp) ---
  // Collective, before run(): `resume_arg` as --resume ("", "auto", a file or a folder) restores
  // everything for an exact continuation; otherwise config.load_checkpoint (--init-from) loads
  // weights only (EMA weights when the file has them; puzzle table resized by mean if needed).
  void restore(const std::string& resume_arg);
  void restore_checkpoint(const std::string& path);
  void init_from_checkpoint(const std::string& path);
  // The signal (SIGTERM/SIGUSR1) on which run() stopped after checkpointing, or 0.
  int stop_signal() const { return stop_signal_; }

  int64_t step() const { return step_; }
  int64_t total_steps() const { return total_steps_; }
  const TrainDataInfo& data_info() const { return data_->info(); }
  TinyRecursiveModel& model() { return model_; }
  AdamAtan2* adam() { return adam_.get(); }
  SparseSignSgd* sign_sgd() { return sign_sgd_.get(); }
  Ema* ema() { return ema_.get(); }
  const StepTimes& times() const { return times_; }
  const TrainConfig& config() const { return config_; }

 private:
  void broadcast_initial_state();
  void log_line(const std::string& line);
  void append_jsonl(const std::string& kind, const Metrics& metrics);
  void print_progress();
  ModelBatch to_model_batch(const BatchTensors& b) const;
  // Checkpoint-side helpers (src/train/trainer_checkpoint.cpp).
  void add_resume_state(CheckpointContent& c);   // generators and ACT carry, gathered
  int64_t first_iteration(int64_t epochs_per_iter);
  torch::Tensor debug_poison_loss(const torch::Tensor& loss) const;
  bool step_is_finite(const torch::Tensor& loss);  // collective; false: skip this step
  bool at_step_boundary();                         // collective; true: stop now

  TrainConfig config_;
  RunContext ctx_;
  std::unique_ptr<TrainData> data_;
  TinyRecursiveModel model_{nullptr};
  std::unique_ptr<ActLossHead> loss_head_;
  std::vector<std::string> dense_names_;
  std::vector<torch::Tensor> dense_params_;  // trained dense parameters, in named order
  std::unique_ptr<GradBucketer> bucketer_;
  std::unique_ptr<AdamAtan2> adam_;
  std::unique_ptr<SparseSignSgd> sign_sgd_;
  std::unique_ptr<Ema> ema_;
  std::optional<at::Generator> generator_;  // exploration draws (CPU; default generator on CUDA)
  std::optional<ActCarry> carry_;
  std::optional<BatchTensors> pending_;  // a batch read ahead at an epoch boundary

  int64_t step_ = 0;
  int stop_signal_ = 0;
  int64_t total_steps_ = 0;
  int64_t epoch_ = 0;
  SamplerPosition next_position_;
  double last_lr_ = 0;
  std::ofstream jsonl_;
  StepTimes times_;
  // Progress accounting (rank 0).
  std::chrono::steady_clock::time_point start_time_, last_print_time_;
  int64_t last_print_step_ = 0;
  torch::Tensor window_raw_;  // summed ActMetrics vectors since the last progress line
};

// The metrics of one step from the summed ActMetrics vector, as pretrain.py post-processes them:
// losses divided by global_batch_size, the others by max(count, 1).
Metrics postprocess_train_metrics(const torch::Tensor& stacked_sums, int64_t global_batch_size);

}  // namespace trm
