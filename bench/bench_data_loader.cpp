// bench-data-loader: samples per second the training loader delivers (TrainSampler alone and
// through the Prefetcher) and the test iterator, for one rank of a world of W, on any dataset.
//   bench-data-loader <dataset dir> [global_batch=768] [world=1] [seconds=3]
// Training consumes global_batch / step_seconds samples/s; the loader must exceed that by 10x.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "trm/common/error.hpp"
#include "trm/data/prefetcher.hpp"
#include "trm/data/test_iterator.hpp"
#include "trm/data/train_sampler.hpp"

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench-data-loader <dataset dir> [global_batch=768] [world=1] [seconds=3]\n");
    return 2;
  }
  try {
    const std::string dir = argv[1];
    const int64_t batch = argc > 2 ? std::atoll(argv[2]) : 768;
    const int world = argc > 3 ? std::atoi(argv[3]) : 1;
    const double seconds = argc > 4 ? std::atof(argv[4]) : 3.0;
    auto ds = std::make_shared<trm::PuzzleDataset>(dir, "train");
    std::printf("dataset %s: %lld examples, seq_len %lld, %lld groups; global batch %lld, world %d (rank 0 slice %lld)\n",
                dir.c_str(), static_cast<long long>(ds->num_examples()), static_cast<long long>(ds->metadata().seq_len),
                static_cast<long long>(ds->num_groups()), static_cast<long long>(batch), world,
                static_cast<long long>(batch / world));

    {
      trm::TrainSampler sampler(ds, 0, batch, 0, world);
      int64_t rows = 0, steps = 0;
      const double t0 = now_s();
      while (now_s() - t0 < seconds) {
        rows += sampler.next().rows;
        ++steps;
      }
      const double dt = now_s() - t0;
      std::printf("  sampler    : %8.0f samples/s per rank (%lld steps, %.2f ms/step)\n", rows / dt,
                  static_cast<long long>(steps), 1e3 * dt / steps);
    }
    {
      trm::Prefetcher pf(std::make_unique<trm::TrainSampler>(ds, 0, batch, 0, world), 4);
      int64_t rows = 0, steps = 0;
      const double t0 = now_s();
      while (now_s() - t0 < seconds) {
        rows += pf.next().rows;
        ++steps;
      }
      const double dt = now_s() - t0;
      std::printf("  prefetcher : %8.0f samples/s per rank (%lld steps, %.2f ms/step)\n", rows / dt,
                  static_cast<long long>(steps), 1e3 * dt / steps);
    }
    {
      auto test = std::make_shared<trm::PuzzleDataset>(dir, "test");
      if (test->num_examples() > 0) {
        trm::TestIterator it(test, batch, 0, world);
        trm::Batch b;
        int64_t rows = 0;
        const double t0 = now_s();
        while (now_s() - t0 < seconds && it.next(&b)) rows += b.real_rows;
        const double dt = now_s() - t0;
        std::printf("  test iter  : %8.0f samples/s per rank (%lld rows)\n", rows / dt, static_cast<long long>(rows));
      }
    }
  } catch (const trm::Error& e) {
    std::fprintf(stderr, "bench-data-loader: %s\n  hint: %s\n", e.message().c_str(), e.hint().c_str());
    return 1;
  }
  return 0;
}
