// Prefetcher: a background thread that keeps a small queue of ready batches from a
// TrainSampler, so reading and decoding rows overlaps the training step. Batches come out in
// exactly the order the sampler makes them; each carries next_position for checkpoints, so a
// run saved after consuming batch k resumes at batch k+1 whatever is still queued.
// Errors raised in the thread are rethrown by next().
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "trm/data/train_sampler.hpp"

namespace trm {

class Prefetcher {
 public:
  // Takes ownership of the sampler; depth = batches kept ready (>= 1).
  Prefetcher(std::unique_ptr<TrainSampler> sampler, size_t depth = 4);
  ~Prefetcher();  // stops and joins the thread
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  Batch next();  // blocks until a batch is ready

 private:
  void run();

  std::unique_ptr<TrainSampler> sampler_;
  size_t depth_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  std::exception_ptr error_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace trm
