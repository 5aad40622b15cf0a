// Trainer: the step protocol of trainer.hpp, evaluation on the test split (through the eval
// module's evaluate_test_split) and checkpoints.
// Index spaces: a BatchTensors holds this rank's rows [r*B/W, (r+1)*B/W) of global batch b;
// the ACT carry row i always belongs to local row i, so for any world size global row j of the
// carry sees the same sequence of examples.
#include "trm/train/trainer.hpp"

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "trm/ckpt/checkpoint_store.hpp"
#include "trm/ckpt/model_state.hpp"
#include "trm/ckpt/resume_policy.hpp"
#include "trm/common/error.hpp"
#include "trm/config/config_loader.hpp"
#include "trm/eval/arc_evaluator.hpp"
#include "trm/eval/arc_submission.hpp"
#include "trm/eval/arc_votes_file.hpp"
#include "trm/eval/evaluate.hpp"
#include "trm/model/cpu_runtime.hpp"
#include "trm/train/lr_schedule.hpp"

namespace trm {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  std::ostringstream os;
  if (s >= 3600) os << s / 3600 << "h" << std::setw(2) << std::setfill('0') << (s % 3600) / 60 << "m";
  else if (s >= 60) os << s / 60 << "m" << std::setw(2) << std::setfill('0') << s % 60 << "s";
  else os << s << "s";
  return os.str();
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream os;
  os << std::setprecision(9) << v;
  return os.str();
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Swaps the EMA weights into the model for its lifetime, so evaluation runs on them and the
// trained weights come back even when it throws (nothing to do when ema is null).
class EmaWeightsIn {
 public:
  explicit EmaWeightsIn(Ema* ema) : ema_(ema) {
    if (ema_) ema_->swap();
  }
  ~EmaWeightsIn() {
    if (ema_) ema_->swap();
  }
  EmaWeightsIn(const EmaWeightsIn&) = delete;
  EmaWeightsIn& operator=(const EmaWeightsIn&) = delete;

 private:
  Ema* ema_;
};

// The metric vector of ActMetrics, summed over ranks (float64, one collective).
torch::Tensor reduce_sums(const ActMetrics& metrics, Communicator& comm) {
  torch::Tensor sums = metrics.stacked().to(torch::kCPU, torch::kFloat64).contiguous();
  comm.all_reduce_sum(sums);
  return sums;
}

}  // namespace

Metrics postprocess_train_metrics(const torch::Tensor& stacked_sums, int64_t global_batch_size) {
  const auto& names = ActMetrics::names();
  auto acc = stacked_sums.accessor<double, 1>();
  const double count = std::max(acc[0], 1.0);
  Metrics m;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& k = names[i];
    if (k == "count") m[k] = acc[i];
    else if (k.size() >= 4 && k.compare(k.size() - 4, 4, "loss") == 0) m[k] = acc[i] / global_batch_size;
    else m[k] = acc[i] / count;
  }
  return m;
}

Trainer::Trainer(const TrainConfig& config, RunContext ctx) : config_(config), ctx_(ctx) {
  TRM_CHECK(ctx_.comm != nullptr, "Trainer needs a communicator", "build one with make_communicator()");
  validate_for_world(config_, ctx_.world_size);
  configure_cpu_runtime(static_cast<int>(config_.threads));

  const int64_t eval_batch = config_.eval_batch_size > 0 ? config_.eval_batch_size : config_.global_batch_size;
  data_ = std::make_unique<TrainData>(config_.data_paths, config_.data_paths_test, config_.seed,
                                      config_.global_batch_size, eval_batch, ctx_.rank, ctx_.world_size);
  const TrainDataInfo& info = data_->info();
  total_steps_ = total_train_steps(config_.epochs, info.total_groups, info.mean_puzzle_examples,
                                   config_.global_batch_size);
  TRM_CHECK(total_steps_ >= 1,
            config_.source_path << ": epochs * total_groups * mean_puzzle_examples / global_batch_size = "
                                << config_.epochs << " * " << info.total_groups << " * " << info.mean_puzzle_examples
                                << " / " << config_.global_batch_size << " gives no training step",
            "train for more epochs or use a smaller global_batch_size");

  // The same seed on every rank builds the same model; the broadcast below makes it certain.
  torch::manual_seed(config_.seed);
  model_ = TinyRecursiveModel(config_.arch, info.shape, ctx_.device);
  model_->to(ctx_.device);
  loss_head_ = std::make_unique<ActLossHead>(config_.arch.loss_type, info.ignore_label_id);
  broadcast_initial_state();

  // Exploration draws: one generator per rank, seeded seed + rank as the reference seeds torch.
  if (ctx_.device.is_cpu()) generator_ = at::detail::createCPUGenerator(config_.seed + ctx_.rank);
  else torch::manual_seed(config_.seed + ctx_.rank);

  for (const auto& item : model_->named_parameters(/*recurse=*/true)) {
    if (config_.freeze_weights) {
      item.value().set_requires_grad(false);
      continue;
    }
    dense_names_.push_back(item.key());
    dense_params_.push_back(item.value());
  }
  if (!dense_params_.empty()) {
    bucketer_ = std::make_unique<GradBucketer>(dense_params_);
    adam_ = std::make_unique<AdamAtan2>(
        dense_params_, AdamAtan2Options{config_.beta1, config_.beta2, config_.weight_decay});
  }
  if (model_->puzzle_emb())
    sign_sgd_ = std::make_unique<SparseSignSgd>(model_->puzzle_emb()->weights, config_.puzzle_emb_weight_decay);
  if (config_.ema && !dense_params_.empty()) ema_ = std::make_unique<Ema>(dense_params_, config_.ema_rate);

  if (ctx_.rank == 0) {
    const std::string dir = config_.checkpoint_path.empty() ? "runs/" + config_.run_name : config_.checkpoint_path;
    config_.checkpoint_path = dir;
    std::filesystem::create_directories(dir);
    const std::string jsonl = config_.metrics_path.empty() ? dir + "/metrics.jsonl" : config_.metrics_path;
    if (std::filesystem::path(jsonl).has_parent_path())
      std::filesystem::create_directories(std::filesystem::path(jsonl).parent_path());
    jsonl_.open(jsonl, std::ios::app);
    TRM_CHECK(jsonl_.good(), "cannot open the metrics log '" << jsonl << "'", "check metrics_path / checkpoint_path");
    std::ostringstream os;
    os << "trm-dist: " << ctx_.world_size << " rank(s), backend " << ctx_.comm->backend_name() << ", device "
       << ctx_.device << ", " << torch::get_num_threads() << " thread(s)/rank\n"
       << "data: " << info.kind << ", seq_len " << info.shape.seq_len << ", vocab " << info.shape.vocab_size
       << ", " << info.total_groups << " train groups, " << info.test_examples << " test examples, "
       << info.shape.num_puzzle_identifiers << " puzzle ids\n"
       << "model: " << count_parameters(*model_) << " parameters; " << total_steps_ << " steps of "
       << config_.global_batch_size << " samples";
    log_line(os.str());
  }
  start_time_ = last_print_time_ = Clock::now();
}

Trainer::~Trainer() = default;

void Trainer::broadcast_initial_state() {
  if (ctx_.world_size == 1) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> params;
  for (auto& p : model_->parameters()) params.push_back(p);
  GradBucketer(params).broadcast_values(*ctx_.comm, 0);  // one fused broadcast of the weights
  for (auto& b : model_->buffers()) {
    torch::Tensor c = b.contiguous();
    ctx_.comm->broadcast(c, 0);
    if (!c.is_same(b)) b.copy_(c);
  }
}

void Trainer::log_line(const std::string& line) {
  if (ctx_.rank == 0 && ctx_.out) *ctx_.out << line << std::endl;
}

void Trainer::append_jsonl(const std::string& kind, const Metrics& metrics) {
  if (ctx_.rank != 0 || !jsonl_.is_open()) return;
  jsonl_ << "{\"kind\":" << json_string(kind) << ",\"step\":" << step_ << ",\"epoch\":" << epoch_;
  for (const auto& [k, v] : metrics) jsonl_ << "," << json_string(k) << ":" << json_number(v);
  jsonl_ << "}\n";
  jsonl_.flush();
}

ModelBatch Trainer::to_model_batch(const BatchTensors& b) const {
  // A copy to the GPU from pageable memory waits until the GPU has drained its queue (a host
  // sync every step); from pinned memory it is asynchronous, and LibTorch's caching host
  // allocator keeps the pinned block alive until the copy has run.
  const bool cuda = ctx_.device.is_cuda();
  auto move = [&](const torch::Tensor& t) {
    return cuda ? t.pin_memory().to(ctx_.device, /*non_blocking=*/true) : t.to(ctx_.device);
  };
  ModelBatch m;
  m.inputs = move(b.inputs);
  m.labels = move(b.labels);
  m.puzzle_identifiers = move(b.puzzle_identifiers);
  return m;
}

Metrics Trainer::train_step() {
  const auto t0 = Clock::now();
  BatchTensors batch = pending_ ? std::move(*pending_) : data_->next_train();
  pending_.reset();
  epoch_ = batch.position.epoch;
  next_position_ = batch.next_position;
  const ModelBatch model_batch = to_model_batch(batch);
  const auto t1 = Clock::now();

  model_->train();
  step_ += 1;
  if (!carry_) carry_ = model_->initial_carry(model_batch);
  ActStep out = model_->forward(*carry_, model_batch, generator_ ? c10::optional<at::Generator>(*generator_)
                                                                 : c10::optional<at::Generator>());
  carry_ = std::move(out.carry);
  LossOutputs loss = (*loss_head_)(*carry_, out.outputs);
  loss.loss = debug_poison_loss(loss.loss);  // tests only (debug_nan_at_step)
  (loss.loss * (1.0 / static_cast<double>(config_.global_batch_size))).backward();
  const auto t2 = Clock::now();

  if (bucketer_) bucketer_->all_reduce(*ctx_.comm);
  if (!step_is_finite(loss.loss)) return Metrics{{"skipped_nonfinite", 1.0}};  // nan_policy skip
  const auto t3 = Clock::now();

  const double lr = cosine_schedule_with_warmup(step_, config_.lr, config_.lr_warmup_steps, total_steps_,
                                                config_.lr_min_ratio);
  if (sign_sgd_) {
    const double emb_lr = cosine_schedule_with_warmup(step_, config_.puzzle_emb_lr, config_.lr_warmup_steps,
                                                      total_steps_, config_.lr_min_ratio);
    auto emb = model_->puzzle_emb();
    TRM_CHECK(emb->local_weights().defined() && emb->local_weights().grad().defined(),
              "puzzle embedding received no gradient at step " << step_, "check the model's training forward");
    sign_sgd_->step(emb->local_ids(), emb->local_weights().grad(), emb_lr, ctx_.comm);
  }
  if (adam_) {
    adam_->step(lr);
    adam_->zero_grad();
  }
  if (ema_) ema_->update();
  last_lr_ = config_.freeze_weights ? cosine_schedule_with_warmup(step_, config_.puzzle_emb_lr,
                                                                  config_.lr_warmup_steps, total_steps_,
                                                                  config_.lr_min_ratio)
                                    : lr;
  const auto t4 = Clock::now();

  const torch::Tensor sums = reduce_sums(loss.metrics, *ctx_.comm);
  window_raw_ = window_raw_.defined() ? window_raw_ + sums : sums;
  Metrics m = postprocess_train_metrics(sums, config_.global_batch_size);
  m["lr"] = last_lr_;
  const auto t5 = Clock::now();
  using D = std::chrono::duration<double>;
  times_.data += D(t1 - t0).count();
  times_.forward_backward += D(t2 - t1).count();
  times_.all_reduce += D(t3 - t2).count();
  times_.optimizer += D(t4 - t3).count();
  times_.total += D(t5 - t0).count();
  times_.steps += 1;
  return m;
}

void Trainer::print_progress() {
  const bool last = step_ == total_steps_ || (config_.max_steps > 0 && step_ == config_.max_steps);
  if ((step_ % config_.log_interval != 0 && !last) || !window_raw_.defined()) return;
  const int64_t window_steps = step_ - last_print_step_;
  const double dt = seconds_since(last_print_time_);
  const double steps_per_s = window_steps / std::max(dt, 1e-9);
  const int64_t end = config_.max_steps > 0 ? std::min(config_.max_steps, total_steps_) : total_steps_;
  // Metrics over the whole window: sums over its steps, then the per-step post-processing with
  // window_steps * global_batch_size samples (so steps where nothing halted do not count as 0).
  Metrics w = postprocess_train_metrics(window_raw_, config_.global_batch_size * std::max<int64_t>(1, window_steps));
  std::ostringstream os;
  os << "step " << step_ << "/" << end << " | epoch " << epoch_ << " | " << std::fixed << std::setprecision(2)
     << steps_per_s << " steps/s, " << std::setprecision(0) << steps_per_s * config_.global_batch_size
     << " samples/s | loss " << std::setprecision(4) << w["lm_loss"] << " | exact " << std::setprecision(3)
     << w["exact_accuracy"] << " | acc " << w["accuracy"] << " | steps " << std::setprecision(2) << w["steps"]
     << " | lr " << std::scientific << std::setprecision(2) << last_lr_ << " | ETA "
     << format_duration((end - step_) / std::max(steps_per_s, 1e-9));
  log_line(os.str());
  w["steps_per_s"] = steps_per_s;
  w["samples_per_s"] = steps_per_s * config_.global_batch_size;
  w["elapsed_s"] = seconds_since(start_time_);
  append_jsonl("progress", w);
  window_raw_ = torch::Tensor();
  last_print_step_ = step_;
  last_print_time_ = Clock::now();
}

Metrics Trainer::evaluate() {
  const auto t0 = Clock::now();
  const TrainDataInfo& info = data_->info();
  std::optional<ArcEvaluator> arc;
  if (info.kind == "arc") arc.emplace(ArcEvaluator::from_dataset(data_->test_dirs(), info.blank_identifier_id));
  EvalResult r;
  {
    const EmaWeightsIn ema_weights(ema_.get());
    r = evaluate_test_split(model_, *loss_head_, data_->test_split(), *ctx_.comm, arc ? &*arc : nullptr);
  }

  Metrics m = std::move(r.metrics);
  if (r.arc && ctx_.rank == 0) {
    const std::string step = std::to_string(step_);
    write_arc_submission(*r.arc, config_.checkpoint_path + "/submission_step_" + step + ".json");
    // The vote per test input (votes, mean q, inputs and truths) for trm-report.
    write_arc_votes(*r.arc, arc->test_puzzles(), step_,
                    config_.checkpoint_path + "/arc_votes_step_" + step + ".json");
  }
  m["eval_seconds"] = seconds_since(t0);
  return m;
}

CheckpointContent Trainer::checkpoint_content() {
  CheckpointContent c;
  add_model_to_checkpoint(c, *model_);
  add_data_shape_to_checkpoint(c, data_->info().shape);
  if (ema_)
    for (size_t i = 0; i < dense_names_.size(); ++i) c.tensors["ema"][dense_names_[i]] = ema_->shadow()[i].cpu();
  if (adam_) {
    for (size_t i = 0; i < dense_names_.size(); ++i) {
      c.tensors["optim/m"][dense_names_[i]] = adam_->exp_avg()[i].cpu();
      c.tensors["optim/v"][dense_names_[i]] = adam_->exp_avg_sq()[i].cpu();
    }
    c.ints["optim_step"] = adam_->step_count();
  }
  c.ints["step"] = step_;
  c.ints["epoch"] = epoch_;
  c.ints["total_steps"] = total_steps_;
  c.ints["sampler_epoch"] = next_position_.epoch;
  c.ints["sampler_batch_in_epoch"] = next_position_.batch_in_epoch;
  // Generators and the ACT carry of every rank, gathered (src/train/trainer_checkpoint.cpp).
  add_resume_state(c);
  c.texts["config"] = to_toml(config_);
  return c;
}

std::string Trainer::save_checkpoint(std::optional<double> eval_metric) {
  CheckpointContent content = checkpoint_content();
  if (ctx_.rank != 0) return "";
  CheckpointStore store(CheckpointStoreOptions{config_.checkpoint_path, config_.checkpoint_keep_last, true});
  return store.save(content, step_, eval_metric);
}

Metrics Trainer::run() {
  const int64_t epochs_per_iter = config_.eval_interval > 0 ? config_.eval_interval : config_.epochs;
  const int64_t total_iters = config_.epochs / epochs_per_iter;
  const int64_t step_limit = config_.max_steps > 0 ? std::min(config_.max_steps, total_steps_) : total_steps_;
  Metrics last_eval;
  int64_t last_eval_step = -1;
  auto eval_and_save = [&](bool final_one) {
    Metrics e = evaluate();
    last_eval = e;
    last_eval_step = step_;
    append_jsonl("eval", e);
    std::ostringstream os;
    os << "eval @ step " << step_ << ": exact_accuracy " << std::fixed << std::setprecision(4) << e["exact_accuracy"]
       << ", token accuracy " << e["accuracy"] << ", copy-input baseline " << e["copy_input_exact_accuracy"];
    for (const auto& [k, v] : e)
      if (k.rfind("ARC/", 0) == 0) os << ", " << k << " " << v;
    os << " (" << std::setprecision(1) << e["eval_seconds"] << " s)";
    log_line(os.str());
    if (config_.checkpoint_every_eval || final_one) {
      const std::string path = save_checkpoint(e["exact_accuracy"]);
      if (!path.empty()) log_line("checkpoint: " + path);
    }
  };

  bool done = step_ >= step_limit;
  for (int64_t iter = first_iteration(epochs_per_iter); iter < total_iters && !done; ++iter) {
    const int64_t end_epoch = (iter + 1) * epochs_per_iter;
    while (step_ < step_limit) {
      if (!pending_) pending_ = data_->next_train();
      if (pending_->position.epoch >= end_epoch) break;  // keep it for the next iteration
      Metrics m = train_step();
      append_jsonl("train", m);
      print_progress();
      if (at_step_boundary()) return last_eval;  // stop signal: checkpoint written
    }
    done = step_ >= step_limit;
    if (iter >= config_.min_eval_interval || done) eval_and_save(done || iter + 1 == total_iters);
  }
  if (last_eval_step != step_) eval_and_save(true);
  return last_eval;
}

}  // namespace trm
