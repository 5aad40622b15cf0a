// Trainer, part 2 (owned by the checkpoint work, docs/CHECKPOINTS.md): what a checkpoint holds
// beyond weights and optimizer (the ACT carry and the generators), exact resume, --init-from,
// and the duties of a step boundary: injected test failures, periodic checkpoints, stop signals,
// and the policy for non-finite losses or gradients.
// Invariants: the carry is stored in GLOBAL row order (rank r's rows [r*b, (r+1)*b) of the
// global batch), so a checkpoint restores on any world size dividing global_batch_size; every
// collective here is entered by all ranks at the same step.
#include <cmath>
#include <csignal>
#include <cstring>
#include <limits>
#include <sstream>

#include "trm/ckpt/checkpoint_store.hpp"
#include "trm/ckpt/model_state.hpp"
#include "trm/ckpt/resume_policy.hpp"
#include "trm/ckpt/stop_signal.hpp"
#include "trm/common/error.hpp"
#include "trm/config/config_loader.hpp"
#include "trm/train/trainer.hpp"

namespace trm {
namespace {

// Rows of every rank concatenated in rank order (global row order), on the CPU.
torch::Tensor gather_rows(Communicator& comm, const torch::Tensor& t, const torch::Device& device) {
  torch::Tensor local = t.scalar_type() == torch::kBool ? t.to(torch::kUInt8) : t;
  torch::Tensor all = comm.all_gather(local.to(device).contiguous()).to(torch::kCPU);
  return t.scalar_type() == torch::kBool ? all.to(torch::kBool) : all;
}

// A handle sharing the device's default generator (state changes through it are global).
at::Generator default_generator_for(const torch::Device& device) {
  return at::globalContext().defaultGenerator(device);
}

}  // namespace

void Trainer::add_resume_state(CheckpointContent& c) {
  // Generators of every rank (exploration draws): the explicit CPU generator, or the device's
  // default generator on CUDA. Overwrites any rng/rank* blobs written before.
  at::Generator gen = generator_ ? *generator_ : default_generator_for(ctx_.device);
  torch::Tensor state = gen.get_state().to(torch::kUInt8).reshape({-1}).contiguous();
  torch::Tensor all = gather_rows(*ctx_.comm, state, ctx_.device);
  const int64_t per_rank = state.numel();
  for (int r = 0; r < ctx_.world_size; ++r) {
    torch::Tensor s = all.narrow(0, r * per_rank, per_rank).contiguous();
    c.blobs["rng/rank" + std::to_string(r)] =
        std::vector<uint8_t>(s.data_ptr<uint8_t>(), s.data_ptr<uint8_t>() + per_rank);
  }
  c.ints["world_size"] = ctx_.world_size;

  // The ACT carry: without it a resumed run would restart every sample's recursion.
  if (carry_) {
    auto& g = c.tensors["carry"];
    g["y"] = gather_rows(*ctx_.comm, carry_->inner.y, ctx_.device);
    g["z"] = gather_rows(*ctx_.comm, carry_->inner.z, ctx_.device);
    g["steps"] = gather_rows(*ctx_.comm, carry_->steps, ctx_.device);
    g["halted"] = gather_rows(*ctx_.comm, carry_->halted, ctx_.device);
    g["inputs"] = gather_rows(*ctx_.comm, carry_->current.inputs, ctx_.device);
    g["labels"] = gather_rows(*ctx_.comm, carry_->current.labels, ctx_.device);
    g["puzzle_identifiers"] = gather_rows(*ctx_.comm, carry_->current.puzzle_identifiers, ctx_.device);
  }
}

void Trainer::restore(const std::string& resume_arg) {
  const std::string dir =
      config_.checkpoint_path.empty() ? "runs/" + config_.run_name : config_.checkpoint_path;
  std::ostringstream log;
  const auto path = agree_resume_path(resume_arg, dir, *ctx_.comm, log);
  if (!log.str().empty()) log_line(log.str().substr(0, log.str().size() - 1));
  if (path) {
    if (!config_.load_checkpoint.empty())
      log_line("resume: ignoring load_checkpoint/--init-from; continuing from " + *path);
    restore_checkpoint(*path);
  } else if (!config_.load_checkpoint.empty()) {
    init_from_checkpoint(config_.load_checkpoint);
  }
}

void Trainer::restore_checkpoint(const std::string& path) {
  // Every rank reads the file itself (checkpoint_path must be on a shared file system).
  CheckpointReadOptions options;
  options.groups = {"model", "puzzle_emb", "ema", "optim", "carry"};
  const CheckpointContent c = read_checkpoint_file(path, options);
  restore(c, path);
  std::ostringstream os;
  os << "resume: " << path << " at step " << step_ << " (epoch " << epoch_ << ", sampler "
     << next_position_.epoch << ":" << next_position_.batch_in_epoch << ")";
  log_line(os.str());
}

void Trainer::restore(const CheckpointContent& c, const std::string& path) {
  check_resume_data_shape(c, data_->info().shape, path);
  const auto allowed = check_resume_config(c.text("config", path), to_toml(config_), path);
  if (!allowed.empty()) {
    std::string changes = describe_changes(allowed);
    log_line(changes.substr(0, changes.size() - 1));
  }

  torch::NoGradGuard no_grad;
  load_model_from_checkpoint(*model_, c, path);
  if (ema_) {
    if (c.has_group("ema")) {
      for (size_t i = 0; i < dense_names_.size(); ++i)
        ema_->shadow()[i].copy_(c.tensor("ema", dense_names_[i], path));
    } else {
      for (size_t i = 0; i < dense_params_.size(); ++i) ema_->shadow()[i].copy_(dense_params_[i]);
      log_line("resume: " + path + " has no EMA; the EMA restarts from the current weights");
    }
  }
  if (adam_) {
    if (c.has_group("optim/m")) {
      for (size_t i = 0; i < dense_names_.size(); ++i) {
        adam_->exp_avg()[i].copy_(c.tensor("optim/m", dense_names_[i], path));
        adam_->exp_avg_sq()[i].copy_(c.tensor("optim/v", dense_names_[i], path));
      }
      adam_->set_step_count(c.int_value("optim_step", path));
    } else {
      log_line("resume: " + path + " has no optimizer state; AdamATan2 restarts");
    }
  }

  step_ = c.int_value("step", path);
  epoch_ = c.int_value("epoch", path);
  next_position_ = SamplerPosition{c.int_value("sampler_epoch", path),
                                   c.int_value("sampler_batch_in_epoch", path)};
  const int64_t eval_batch =
      config_.eval_batch_size > 0 ? config_.eval_batch_size : config_.global_batch_size;
  data_.reset();  // stop the old prefetch thread before starting the new one
  data_ = std::make_unique<TrainData>(config_.data_paths, config_.data_paths_test, config_.seed,
                                      config_.global_batch_size, eval_batch, ctx_.rank,
                                      ctx_.world_size, next_position_);
  pending_.reset();

  const int64_t saved_world = c.int_value("world_size", path);
  const std::string rng_key = "rng/rank" + std::to_string(ctx_.rank);
  if (saved_world == ctx_.world_size && c.blobs.count(rng_key)) {
    const auto& bytes = c.blob(rng_key, path);
    torch::Tensor state = torch::empty({int64_t(bytes.size())}, torch::kUInt8);
    std::memcpy(state.data_ptr(), bytes.data(), bytes.size());
    at::Generator gen = generator_ ? *generator_ : default_generator_for(ctx_.device);
    gen.set_state(state);
  } else {
    log_line("resume: saved on " + std::to_string(saved_world) + " rank(s), now " +
             std::to_string(ctx_.world_size) +
             "; exploration generators keep their seeds (the run continues, not bit-exactly)");
  }

  carry_.reset();
  if (c.has_group("carry")) {
    const int64_t rows = config_.global_batch_size / ctx_.world_size;
    auto local = [&](const char* name) {
      const torch::Tensor& all = c.tensor("carry", name, path);
      TRM_CHECK(all.size(0) == config_.global_batch_size,
                path << ": carry/" << name << " has " << all.size(0) << " rows, global_batch_size is "
                     << config_.global_batch_size,
                "resume with the global_batch_size the checkpoint was trained with");
      return all.narrow(0, ctx_.rank * rows, rows).to(ctx_.device);
    };
    ActCarry carry;
    carry.inner.y = local("y").to(model_->forward_dtype());
    carry.inner.z = local("z").to(model_->forward_dtype());
    carry.steps = local("steps");
    carry.halted = local("halted");
    carry.current = ModelBatch{local("inputs"), local("labels"), local("puzzle_identifiers")};
    carry_ = std::move(carry);
  }
  pending_.reset();
  window_raw_ = torch::Tensor();
  last_print_step_ = step_;
}

void Trainer::init_from_checkpoint(const std::string& path) {
  std::ostringstream log;
  init_model_from_checkpoint(*model_, path, /*prefer_ema=*/true, log);
  if (ema_)
    for (size_t i = 0; i < dense_params_.size(); ++i) ema_->shadow()[i].copy_(dense_params_[i].detach());
  std::string text = log.str();
  if (!text.empty()) log_line(text.substr(0, text.size() - 1));
}

int64_t Trainer::first_iteration(int64_t epochs_per_iter) {
  if (step_ == 0) return 0;
  if (!pending_) pending_ = data_->next_train();
  return pending_->position.epoch / epochs_per_iter;
}

torch::Tensor Trainer::debug_poison_loss(const torch::Tensor& loss) const {
  if (config_.debug_nan_at_step > 0 && step_ == config_.debug_nan_at_step)
    return loss * std::numeric_limits<double>::quiet_NaN();
  return loss;
}

bool Trainer::step_is_finite(const torch::Tensor& loss) {
  torch::NoGradGuard no_grad;
  // One reduction over everything: a NaN or Inf anywhere makes the sum non-finite.
  std::vector<torch::Tensor> sums{loss.detach().to(torch::kFloat64).reshape({1})};
  for (const auto& p : dense_params_)
    if (p.grad().defined()) sums.push_back(p.grad().sum().to(torch::kFloat64).reshape({1}));
  if (auto emb = model_->puzzle_emb())
    if (emb->local_weights().defined() && emb->local_weights().grad().defined())
      sums.push_back(emb->local_weights().grad().sum().to(torch::kFloat64).reshape({1}));
  const bool local_ok = std::isfinite(torch::cat(sums).sum().item<double>());
  if (!ctx_.comm->any(!local_ok)) return true;

  const std::string dir =
      config_.checkpoint_path.empty() ? "runs/" + config_.run_name : config_.checkpoint_path;
  TRM_CHECK(config_.nan_policy == NanPolicy::kSkip,
            "non-finite loss or gradients at step " << step_ << " (this rank's are "
                                                    << (local_ok ? "finite" : "not finite")
                                                    << "); stopped before applying the update",
            "the last checkpoint in " + dir +
                " is intact: resume from it with a lower lr, or set nan_policy = \"skip\"");
  log_line("warning: non-finite loss or gradients at step " + std::to_string(step_) +
           "; step skipped (nan_policy = \"skip\")");
  if (adam_) adam_->zero_grad();
  if (carry_ && !(torch::isfinite(carry_->inner.y).all().item<bool>() &&
                  torch::isfinite(carry_->inner.z).all().item<bool>()))
    carry_->halted.fill_(true);  // a poisoned latent would poison every later step
  return false;
}

bool Trainer::at_step_boundary() {
  bool saved_now = false;
  if (config_.checkpoint_interval_steps > 0 && step_ % config_.checkpoint_interval_steps == 0) {
    const std::string path = save_checkpoint();
    if (!path.empty()) log_line("checkpoint: " + path);
    saved_now = true;
  }
  if (config_.debug_fail_at_step > 0 && step_ == config_.debug_fail_at_step &&
      ctx_.rank == config_.debug_fail_rank) {
    if (config_.debug_fail_kind == DebugFailKind::kKill) std::raise(SIGKILL);
    TRM_FAIL("injected failure (debug_fail_at_step = " << step_ << ") on rank " << ctx_.rank,
             "debug_fail_* keys exist for tests; remove them from the config");
  }
  stop_signal_ = agree_stop_signal(*ctx_.comm);
  if (stop_signal_ == 0) return false;
  std::string path;
  if (!saved_now) path = save_checkpoint();
  ctx_.comm->barrier();  // nobody exits before the coordinator's checkpoint is complete
  log_line("stop: signal " + std::to_string(stop_signal_) + " at step " + std::to_string(step_) +
           (path.empty() ? std::string() : "; checkpoint " + path) + "; exiting with " +
           std::to_string(stop_exit_code(stop_signal_)));
  return true;
}

}  // namespace trm
