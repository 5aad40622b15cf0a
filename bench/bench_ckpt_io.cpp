// bench-ckpt-io: cost of checkpoint files. Builds a content of about --mb MiB of float32 tensors
// (dense weights, EMA, two optimizer moments and a puzzle table, the proportions of a real
// checkpoint), then times the atomic write (fsync included), the full read with CRC check, and
// the CRC-only validation that --resume auto runs per candidate file.
//   bench-ckpt-io [--mb 256] [--dir /tmp] [--repeat 3]
#include <torch/torch.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <string>

#include "trm/ckpt/checkpoint_file.hpp"

namespace {

double seconds_of(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int64_t mb = 256;
  int repeat = 3;
  std::string dir = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--mb") mb = std::stoll(argv[i + 1]);
    else if (a == "--dir") dir = argv[i + 1];
    else if (a == "--repeat") repeat = std::stoi(argv[i + 1]);
  }
  // One fifth each: weights, EMA, m, v, puzzle table; 32 tensors per dense group.
  const int64_t floats = mb * (int64_t(1) << 20) / 4;
  const int64_t per_group = floats / 5;
  const int64_t per_tensor = per_group / 32;
  trm::CheckpointContent c;
  for (const char* g : {"model", "ema", "optim/m", "optim/v"})
    for (int t = 0; t < 32; ++t)
      c.tensors[g]["inner.layer" + std::to_string(t) + ".weight"] = torch::randn({per_tensor});
  c.tensors["puzzle_emb"]["inner.puzzle_emb.weights"] = torch::randn({per_group / 512, 512});
  c.ints["step"] = 1;
  c.texts["config"] = "lr = 0.0001\n";
  const double bytes = double(floats) * 4;

  const std::string path = dir + "/bench_ckpt_io_" + std::to_string(::getpid()) + ".h5";
  double w = 1e30, r = 1e30, v = 1e30;
  for (int i = 0; i < repeat; ++i) {
    w = std::min(w, seconds_of([&] { trm::write_checkpoint_file(path, c); }));
    r = std::min(r, seconds_of([&] { trm::read_checkpoint_file(path); }));
    v = std::min(v, seconds_of([&] { (void)trm::checkpoint_file_problem(path); }));
  }
  std::remove(path.c_str());
  std::printf("checkpoint of %.0f MiB in %s (best of %d)\n", bytes / (1 << 20), dir.c_str(), repeat);
  std::printf("  write (atomic, fsync): %.3f s  %.2f GB/s\n", w, bytes / w / 1e9);
  std::printf("  read + CRC check:      %.3f s  %.2f GB/s\n", r, bytes / r / 1e9);
  std::printf("  CRC check only:        %.3f s  %.2f GB/s\n", v, bytes / v / 1e9);
  return 0;
}
