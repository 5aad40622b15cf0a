// Prefetcher (see prefetcher.hpp): one producer thread, a bounded deque, FIFO order.
#include "trm/data/prefetcher.hpp"

#include "trm/common/error.hpp"

namespace trm {

Prefetcher::Prefetcher(std::unique_ptr<TrainSampler> sampler, size_t depth)
    : sampler_(std::move(sampler)), depth_(depth < 1 ? 1 : depth) {
  TRM_CHECK(sampler_ != nullptr, "Prefetcher needs a sampler", "");
  thread_ = std::thread([this] { run(); });
}

Prefetcher::~Prefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Prefetcher::run() {
  try {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [this] { return stop_ || queue_.size() < depth_; });
        if (stop_) return;
      }
      Batch b = sampler_->next();  // reads rows outside the lock
      {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back(std::move(b));
      }
      cv_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
    cv_.notify_all();
  }
}

Batch Prefetcher::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return !queue_.empty() || error_ != nullptr; });
  if (queue_.empty()) std::rethrow_exception(error_);
  Batch b = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  cv_.notify_all();
  return b;
}

}  // namespace trm
