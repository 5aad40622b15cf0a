// bench-train-step: the full data-parallel training step of trm-dist (ACT forward + loss,
// backward, one fused all-reduce, sign-SGD on the puzzle rows, AdamATan2, EMA, metric
// reduction) at the benchmark configs C1-C5 of docs/BENCHMARKS.md and ARC (the paper's ARC model,
// 916 positions, h512), on synthetic batches.
//   mpirun -np 2 bench-train-step --config C1 --threads 1 [--steps 5 --warmup 1]
//     [--device cpu|cuda] [--dtype f32|bf16] [--batch N] [--peak-tflops X]
// Prints per-step seconds, samples/s, the share of the step spent in the all-reduce, the peak
// RSS of every rank and the model TFLOP/s of the step (trm/model/step_flops.hpp; % of
// --peak-tflops when given), then a `RESULT {json}` line. The global batch is the config's (or
// --batch); each rank takes batch / world rows. On CUDA each rank uses GPU local_rank and NCCL.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "trm/dist/communicator.hpp"
#include "trm/dist/grad_bucketer.hpp"
#include "trm/model/act_loss_head.hpp"
#include "trm/model/cpu_runtime.hpp"
#include "trm/model/step_flops.hpp"
#include "trm/model/tiny_recursive_model.hpp"
#include "trm/train/adam_atan2.hpp"
#include "trm/train/ema.hpp"
#include "trm/train/sparse_sign_sgd.hpp"

namespace {

struct BenchConfig {
  trm::ArchConfig arch;
  trm::DataShape shape;
  int64_t batch = 0;
};

// C1 seq 81 vocab 11 h128 heads 4 mlp_t pos none L_cycles 6 batch 64; C2 = C1 with attention +
// rope; C3 seq 900 vocab 12 h128 heads 4 attention rope L_cycles 4 batch 8, 1000 puzzle ids;
// C4 = C1 with h512 heads 8 batch 16; C5 seq 16 vocab 6 h64 heads 2 mlp_t L_cycles 6 batch 32.
// All: L_layers 2, H_cycles 3, expansion 4, puzzle_emb_len 16, puzzle_emb_ndim = hidden, float32.
BenchConfig bench_config(const std::string& name) {
  BenchConfig c;
  c.arch.L_layers = 2;
  c.arch.H_cycles = 3;
  c.arch.expansion = 4;
  c.arch.puzzle_emb_len = 16;
  c.arch.puzzle_emb_ndim = -1;
  c.arch.forward_dtype = trm::ForwardDtype::kFloat32;
  c.arch.hidden_size = 128;
  c.arch.num_heads = 4;
  c.arch.mlp_t = true;
  c.arch.pos_encodings = trm::PosEncoding::kNone;
  c.arch.L_cycles = 6;
  c.shape = {81, 11, 1};
  c.batch = 64;
  if (name == "C1") return c;
  if (name == "C2") {
    c.arch.mlp_t = false;
    c.arch.pos_encodings = trm::PosEncoding::kRope;
    return c;
  }
  if (name == "C3") {
    c.arch.mlp_t = false;
    c.arch.pos_encodings = trm::PosEncoding::kRope;
    c.arch.L_cycles = 4;
    c.shape = {900, 12, 1000};
    c.batch = 8;
    return c;
  }
  if (name == "C4") {
    c.arch.hidden_size = 512;
    c.arch.num_heads = 8;
    c.batch = 16;
    return c;
  }
  if (name == "C5") {
    c.arch.hidden_size = 64;
    c.arch.num_heads = 2;
    c.shape = {16, 6, 1};
    c.batch = 32;
    return c;
  }
  if (name == "ARC") {  // the paper's ARC model: 900 cells + 16 puzzle rows = 916 positions
    c.arch.hidden_size = 512;
    c.arch.num_heads = 8;
    c.arch.mlp_t = false;
    c.arch.pos_encodings = trm::PosEncoding::kRope;
    c.arch.L_cycles = 4;
    c.shape = {900, 12, 1000};
    c.batch = 64;
    return c;
  }
  if (name == "demo") {  // configs/demo_sudoku6.toml: 6x6 Sudoku, no puzzle embedding
    c.arch.hidden_size = 64;
    c.arch.num_heads = 2;
    c.arch.L_cycles = 4;
    c.arch.halt_max_steps = 8;
    c.arch.puzzle_emb_ndim = 0;
    c.arch.puzzle_emb_len = 0;
    c.shape = {36, 8, 1};
    c.batch = 64;
    return c;
  }
  throw std::runtime_error("unknown config " + name + " (C1..C5, ARC, demo)");
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU seconds of this process (all threads): on a loaded machine, a floor for the quiet wall time.
double cpu_now() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec * 1e-6;
}

}  // namespace

int main(int argc, char** argv) {
  trm::MpiSession mpi(&argc, &argv);
  std::string name = "C1";
  int threads = 2, steps = 5, warmup = 1;
  std::string device_name = "cpu", dtype = "f32";
  int64_t batch_override = 0;
  double peak_tflops = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--config") name = v;
    else if (a == "--threads") threads = std::stoi(v);
    else if (a == "--steps") steps = std::stoi(v);
    else if (a == "--warmup") warmup = std::stoi(v);
    else if (a == "--device") device_name = v;
    else if (a == "--dtype") dtype = v;
    else if (a == "--batch") batch_override = std::stoll(v);
    else if (a == "--peak-tflops") peak_tflops = std::stod(v);
  }
  if (dtype != "f32" && dtype != "bf16") throw std::runtime_error("--dtype " + dtype + ": f32 or bf16");
  const bool cuda = device_name.rfind("cuda", 0) == 0;
  if (cuda && !torch::cuda::is_available())
    throw std::runtime_error("--device " + device_name + " but this LibTorch sees no CUDA device");
  // One GPU per rank, chosen from the local rank as trm-dist does.
  const int local_rank = trm::make_mpi_communicator()->local_rank();
  const torch::Device device = cuda ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(
                                                                     local_rank % torch::cuda::device_count()))
                                    : torch::Device(torch::kCPU);
  auto comm = trm::make_communicator(device);
  const int rank = comm->rank(), world = comm->world_size();
  trm::configure_cpu_runtime(threads);
  BenchConfig bc = bench_config(name);
  if (batch_override > 0) bc.batch = batch_override;
  bc.arch.forward_dtype = dtype == "bf16" ? trm::ForwardDtype::kBFloat16 : trm::ForwardDtype::kFloat32;
  const int64_t local = bc.batch / world;
  auto sync_device = [&] {
    if (cuda) torch::cuda::synchronize(device.index());
  };

  torch::manual_seed(0);
  trm::TinyRecursiveModel model(bc.arch, bc.shape, device);
  model->to(device);
  model->train();
  trm::ActLossHead head(bc.arch.loss_type, 0);
  std::vector<torch::Tensor> params = model->parameters();
  trm::GradBucketer bucketer(params);
  trm::AdamAtan2 adam(params, {0.9, 0.95, 0.1});
  std::unique_ptr<trm::SparseSignSgd> sign_sgd;
  if (model->puzzle_emb()) sign_sgd = std::make_unique<trm::SparseSignSgd>(model->puzzle_emb()->weights, 0.1);
  trm::Ema ema(params, 0.999);
  // Exploration draws: a CPU generator on CPU, the device's default one on CUDA.
  c10::optional<at::Generator> gen;
  if (!cuda) gen = at::detail::createCPUGenerator(rank);

  const auto i32 = torch::TensorOptions().dtype(torch::kInt32).device(device);
  auto make_batch = [&]() {
    trm::ModelBatch b;
    b.inputs = torch::randint(1, bc.shape.vocab_size, {local, bc.shape.seq_len}, i32);
    b.labels = torch::randint(1, bc.shape.vocab_size, {local, bc.shape.seq_len}, i32);
    b.puzzle_identifiers = torch::randint(0, bc.shape.num_puzzle_identifiers, {local}, i32);
    return b;
  };
  trm::ModelBatch batch = make_batch();
  trm::ActCarry carry = model->initial_carry(batch);
  double t_step = 0, t_reduce = 0, t_cpu = 0;
  for (int s = 0; s < warmup + steps; ++s) {
    batch = make_batch();
    sync_device();
    comm->barrier();
    const double t0 = now(), c0 = cpu_now();
    trm::ActStep out = model->forward(carry, batch, gen);
    carry = out.carry;
    trm::LossOutputs lo = head(carry, out.outputs);
    (lo.loss * (1.0 / bc.batch)).backward();
    sync_device();  // (on CUDA the phase split costs two syncs; the step total is what counts)
    const double t1 = now();
    bucketer.all_reduce(*comm);
    sync_device();
    const double t2 = now();
    if (sign_sgd)
      sign_sgd->step(model->puzzle_emb()->local_ids(), model->puzzle_emb()->local_weights().grad(), 1e-2, comm.get());
    adam.step(1e-4);
    adam.zero_grad();
    ema.update();
    torch::Tensor sums = lo.metrics.stacked().to(torch::kFloat64).contiguous();
    comm->all_reduce_sum(sums);
    sync_device();
    const double t3 = now();
    if (s >= warmup) {
      t_cpu += cpu_now() - c0;
      t_step += t3 - t0;
      t_reduce += t2 - t1;
    }
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  torch::Tensor stats = torch::tensor({t_step / steps, t_reduce / steps, usage.ru_maxrss / 1024.0, t_cpu / steps}, torch::kFloat64);
  torch::Tensor all = comm->all_gather(stats.reshape({1, 4}));
  if (rank == 0) {
    const double step_s = all.select(1, 0).max().item<double>();
    const double reduce_s = all.select(1, 1).mean().item<double>();
    std::printf("%s np=%d threads=%d params=%lld: %.4f s/step, %.2f steps/s, %.1f samples/s, all-reduce %.2f%% of step,"
                " peak RSS/rank MiB:",
                name.c_str(), world, threads, static_cast<long long>(bucketer.numel()), step_s, 1.0 / step_s,
                bc.batch / step_s, 100.0 * reduce_s / step_s);
    for (int r = 0; r < world; ++r) std::printf(" %.0f", all[r][2].item<double>());
    std::printf(", CPU s/step/rank: %.4f\n", all.select(1, 3).max().item<double>());
    // Model FLOPs of the global batch, spread over every rank's device.
    const double tflops = trm::train_step_flops(bc.arch, bc.shape, local * world).total() / step_s / 1e12;
    const double pct = peak_tflops > 0 ? 100.0 * tflops / (peak_tflops * world) : -1.0;
    std::printf("%s %s %s batch %lld: %.2f TFLOP/s", name.c_str(), device.str().c_str(), dtype.c_str(),
                static_cast<long long>(local * world), tflops);
    if (pct >= 0) std::printf(" (%.1f%% of %d x %.0f peak)", pct, world, peak_tflops);
    std::printf("\nRESULT {\"bench\":\"train_step\",\"config\":\"%s\",\"device\":\"%s\",\"dtype\":\"%s\","
                "\"np\":%d,\"batch\":%lld,\"s_per_step\":%.6f,\"samples_per_s\":%.2f,\"allreduce_pct\":%.2f,"
                "\"tflops\":%.4f,\"peak_tflops\":%.1f,\"peak_pct\":%.2f}\n",
                name.c_str(), device.str().c_str(), dtype.c_str(), world, static_cast<long long>(local * world),
                step_s, local * world / step_s, 100.0 * reduce_s / step_s, tflops, peak_tflops, pct);
  }
  return 0;
}
