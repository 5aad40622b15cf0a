// bench-model-step: seconds per training step of the model alone (ACT forward through the loss
// head, then backward; no optimizer), for the reference configurations C1..C5 of issue 2.
// Run by hand: build/bin/bench-model-step [--steps N] [--warmup N] [--threads N]
//   [--profile trace.json] [C1 C3 ...]
// Prints, per config, the median seconds/step, samples/s and the process's peak RSS so far.
#include <sys/resource.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "trm/model/act_loss_head.hpp"
#include "trm/model/cpu_gemm.hpp"
#include "trm/model/cpu_runtime.hpp"
#include "trm/model/tiny_recursive_model.hpp"

namespace {

struct BenchConfig {
  const char* name;
  trm::ArchConfig arch;
  trm::DataShape shape;
  int64_t batch;
};

trm::ArchConfig base_arch(int64_t hidden, int64_t heads, bool mlp_t, int64_t l_cycles) {
  trm::ArchConfig a;
  a.hidden_size = hidden;
  a.num_heads = heads;
  a.expansion = 4.0;
  a.H_cycles = 3;
  a.L_cycles = l_cycles;
  a.L_layers = 2;
  a.mlp_t = mlp_t;
  a.pos_encodings = mlp_t ? trm::PosEncoding::kNone : trm::PosEncoding::kRope;
  a.puzzle_emb_ndim = hidden;
  a.puzzle_emb_len = 16;
  a.forward_dtype = trm::ForwardDtype::kFloat32;
  return a;
}

std::vector<BenchConfig> all_configs() {
  return {
      {"C1", base_arch(128, 4, true, 6), {81, 11, 1}, 64},
      {"C2", base_arch(128, 4, false, 6), {81, 11, 1}, 64},
      {"C3", base_arch(128, 4, false, 4), {900, 12, 1000}, 8},
      {"C4", base_arch(512, 8, true, 6), {81, 11, 1}, 16},
      {"C5", base_arch(64, 2, true, 6), {16, 6, 1}, 32},
  };
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

double peak_rss_gib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is KiB
}

trm::ModelBatch random_batch(const BenchConfig& c) {
  const auto i32 = torch::TensorOptions().dtype(torch::kInt32);
  return trm::ModelBatch{
      torch::randint(1, c.shape.vocab_size, {c.batch, c.shape.seq_len}, i32),
      torch::randint(1, c.shape.vocab_size, {c.batch, c.shape.seq_len}, i32),
      torch::randint(0, c.shape.num_puzzle_identifiers, {c.batch}, i32)};
}

void run(const BenchConfig& c, int warmup, int steps, const std::string& profile_path) {
  torch::manual_seed(0);
  trm::TinyRecursiveModel model(c.arch, c.shape);
  model->train();
  trm::ActLossHead head(c.arch.loss_type);
  at::Generator gen = at::detail::createCPUGenerator(1);
  const auto batch = random_batch(c);
  auto carry = model->initial_carry(batch);
  std::vector<double> times;
  double cpu_timed = 0.0;
  std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
  for (int i = 0; i < warmup + steps; ++i) {
    if (i == warmup && !profile_path.empty()) {
      profile = std::make_unique<torch::autograd::profiler::RecordProfile>(profile_path);
    }
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    auto step = model->forward(carry, batch, gen);
    auto loss = head(step.carry, step.outputs);
    model->zero_grad();
    loss.loss.backward();
    carry = step.carry;
    const double dt =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (i >= warmup) {
      times.push_back(dt);
      cpu_timed += cpu_seconds() - c0;
    }
  }
  profile.reset();
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  // CPU seconds per step (all threads) tell more than wall time on a shared machine.
  std::printf("%s  params %9lld  batch %3lld  %.3f s/step (min %.3f, max %.3f)  %8.1f samples/s"
              "  cpu %.3f s/step  peak RSS %.2f GiB\n",
              c.name, static_cast<long long>(trm::count_parameters(*model)),
              static_cast<long long>(c.batch), median, times.front(), times.back(),
              static_cast<double>(c.batch) / median, cpu_timed / times.size(), peak_rss_gib());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int warmup = 2;
  int steps = 10;
  int threads = 2;
  std::string profile_path;  // --profile FILE: chrome trace of the timed steps (first config)
  std::vector<std::string> wanted;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--steps" && i + 1 < argc) {
      steps = std::atoi(argv[++i]);
    } else if (arg == "--warmup" && i + 1 < argc) {
      warmup = std::atoi(argv[++i]);
    } else if (arg == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (arg == "--profile" && i + 1 < argc) {
      profile_path = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::printf("usage: bench-model-step [--steps N] [--warmup N] [--threads N] "
                  "[--profile trace.json] [C1..C5 ...]\n");
      return 0;
    } else {
      wanted.push_back(arg);
    }
  }
  if (steps < 1) steps = 1;
  trm::configure_cpu_runtime(threads);
  std::printf("bench-model-step: LibTorch %s, %d threads, %d warm-up + %d timed steps, %s\n",
              TORCH_VERSION, threads, warmup, steps,
              trm::gemm_uses_dnnl() ? "oneDNN sgemm" : "LibTorch mm");
  for (const auto& c : all_configs()) {
    const bool selected =
        wanted.empty() || std::find(wanted.begin(), wanted.end(), c.name) != wanted.end();
    if (!selected) continue;
    run(c, warmup, steps, profile_path);
    profile_path.clear();
  }
  return 0;
}
