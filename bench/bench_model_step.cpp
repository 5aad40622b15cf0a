// bench-model-step: seconds per training step of the model alone (ACT forward through the loss
// head, then backward; no optimizer), for the reference configurations C1..C5 of issue 2 and
// ARC (the paper's ARC model: attention, h512, 900 cells + 16 puzzle rows = 916 positions).
// Run by hand: build/bin/bench-model-step [--steps N] [--warmup N] [--threads N]
//   [--device cpu|cuda] [--dtype f32|bf16] [--batch N] [--peak-tflops X]
//   [--profile trace.json] [C1 C3 ARC ...]
// Prints, per config, the median seconds/step, samples/s, the model FLOPs of a step
// (trm/model/step_flops.hpp) as achieved TFLOP/s (and % of --peak-tflops), and the peak RSS;
// then one `RESULT {json}` line per config for scripts (tools/gpu_check.sh).
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
#include "trm/model/step_flops.hpp"
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
      {"ARC", base_arch(512, 8, false, 4), {900, 12, 1000}, 64},
  };
}

// What the command line chooses beyond the config list.
struct RunOptions {
  torch::Device device{torch::kCPU};
  trm::ForwardDtype dtype = trm::ForwardDtype::kFloat32;
  int64_t batch = 0;         // 0: the config's
  double peak_tflops = 0;    // 0: unknown (no % of peak)
  int warmup = 2, steps = 10;
  std::string profile_path;  // chrome trace of the timed steps (first config)
};

// Work queued on the GPU has finished (timing a step must wait for it).
void sync_device(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
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

trm::ModelBatch random_batch(const BenchConfig& c, const torch::Device& device) {
  const auto i32 = torch::TensorOptions().dtype(torch::kInt32).device(device);
  return trm::ModelBatch{
      torch::randint(1, c.shape.vocab_size, {c.batch, c.shape.seq_len}, i32),
      torch::randint(1, c.shape.vocab_size, {c.batch, c.shape.seq_len}, i32),
      torch::randint(0, c.shape.num_puzzle_identifiers, {c.batch}, i32)};
}

void run(BenchConfig c, const RunOptions& o) {
  if (o.batch > 0) c.batch = o.batch;
  c.arch.forward_dtype = o.dtype;
  const int warmup = o.warmup, steps = o.steps;
  torch::manual_seed(0);
  trm::TinyRecursiveModel model(c.arch, c.shape, o.device);
  model->to(o.device);
  model->train();
  trm::ActLossHead head(c.arch.loss_type);
  // Exploration draws from a CPU generator on CPU, from the device's default one on CUDA.
  c10::optional<at::Generator> gen;
  if (o.device.is_cpu()) gen = at::detail::createCPUGenerator(1);
  const auto batch = random_batch(c, o.device);
  auto carry = model->initial_carry(batch);
  std::vector<double> times;
  double cpu_timed = 0.0;
  std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
  for (int i = 0; i < warmup + steps; ++i) {
    if (i == warmup && !o.profile_path.empty()) {
      profile = std::make_unique<torch::autograd::profiler::RecordProfile>(o.profile_path);
    }
    sync_device(o.device);
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    auto step = model->forward(carry, batch, gen);
    auto loss = head(step.carry, step.outputs);
    model->zero_grad();
    loss.loss.backward();
    carry = step.carry;
    sync_device(o.device);
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
  const double tflops = trm::train_step_flops(c.arch, c.shape, c.batch).total() / median / 1e12;
  const double peak_pct = o.peak_tflops > 0 ? 100.0 * tflops / o.peak_tflops : -1.0;
  const char* dtype = o.dtype == trm::ForwardDtype::kBFloat16 ? "bf16" : "f32";
  const std::string device = o.device.str();
  // CPU seconds per step (all threads) tell more than wall time on a shared machine.
  std::printf("%s  params %9lld  batch %3lld  %.3f s/step (min %.3f, max %.3f)  %8.1f samples/s"
              "  cpu %.3f s/step  peak RSS %.2f GiB  %s %s %.2f TFLOP/s",
              c.name, static_cast<long long>(trm::count_parameters(*model)),
              static_cast<long long>(c.batch), median, times.front(), times.back(),
              static_cast<double>(c.batch) / median, cpu_timed / times.size(), peak_rss_gib(),
              device.c_str(), dtype, tflops);
  if (peak_pct >= 0) std::printf(" (%.1f%% of %.0f peak)", peak_pct, o.peak_tflops);
  std::printf("\nRESULT {\"bench\":\"model_step\",\"config\":\"%s\",\"device\":\"%s\","
              "\"dtype\":\"%s\",\"batch\":%lld,\"s_per_step\":%.6f,\"samples_per_s\":%.2f,"
              "\"tflops\":%.4f,\"peak_tflops\":%.1f,\"peak_pct\":%.2f}\n",
              c.name, device.c_str(), dtype, static_cast<long long>(c.batch), median,
              static_cast<double>(c.batch) / median, tflops, o.peak_tflops, peak_pct);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  RunOptions o;
  int threads = 2;
  std::vector<std::string> wanted;
  const char* usage =
      "usage: bench-model-step [--steps N] [--warmup N] [--threads N] [--device cpu|cuda] "
      "[--dtype f32|bf16] [--batch N] [--peak-tflops X] [--profile trace.json] "
      "[C1..C5 ARC ...]\n";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--steps" && has_value) {
      o.steps = std::atoi(argv[++i]);
    } else if (arg == "--warmup" && has_value) {
      o.warmup = std::atoi(argv[++i]);
    } else if (arg == "--threads" && has_value) {
      threads = std::atoi(argv[++i]);
    } else if (arg == "--device" && has_value) {
      o.device = torch::Device(argv[++i]);
    } else if (arg == "--dtype" && has_value) {
      const std::string d = argv[++i];
      if (d != "f32" && d != "bf16") {
        std::fprintf(stderr, "bench-model-step: --dtype %s: use f32 or bf16\n", d.c_str());
        return 2;
      }
      o.dtype = d == "bf16" ? trm::ForwardDtype::kBFloat16 : trm::ForwardDtype::kFloat32;
    } else if (arg == "--batch" && has_value) {
      o.batch = std::atoll(argv[++i]);
    } else if (arg == "--peak-tflops" && has_value) {
      o.peak_tflops = std::atof(argv[++i]);
    } else if (arg == "--profile" && has_value) {
      o.profile_path = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::printf("%s", usage);
      return 0;
    } else {
      wanted.push_back(arg);
    }
  }
  if (o.steps < 1) o.steps = 1;
  if (o.device.is_cuda() && !torch::cuda::is_available()) {
    std::fprintf(stderr, "bench-model-step: --device %s but this LibTorch sees no CUDA device\n",
                 o.device.str().c_str());
    return 2;
  }
  if (o.device.is_cuda() && !o.device.has_index()) o.device = torch::Device(torch::kCUDA, 0);
  trm::configure_cpu_runtime(threads);
  std::printf("bench-model-step: LibTorch %s, %d threads, %d warm-up + %d timed steps, %s\n",
              TORCH_VERSION, threads, o.warmup, o.steps,
              trm::gemm_uses_dnnl() ? "oneDNN sgemm" : "LibTorch mm");
  for (const auto& c : all_configs()) {
    // ARC (minutes per step on a CPU) runs only when named.
    const bool selected =
        wanted.empty() ? std::string(c.name) != "ARC"
                       : std::find(wanted.begin(), wanted.end(), c.name) != wanted.end();
    if (!selected) continue;
    run(c, o);
    o.profile_path.clear();
  }
  return 0;
}
