// ProgressBar (see progress.hpp).
#include "trm/data/progress.hpp"

#include <cstdio>

namespace trm {

ProgressBar::ProgressBar(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

double ProgressBar::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::update(int64_t done) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(done);
}

void ProgressBar::finish() {
  if (!enabled_) return;
  draw(total_);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

void ProgressBar::draw(int64_t done) {
  constexpr int kWidth = 30;
  const double frac = total_ > 0 ? static_cast<double>(done) / total_ : 1.0;
  const int filled = static_cast<int>(frac * kWidth);
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : ' ';
  bar[kWidth] = '\0';
  std::fprintf(stderr, "\r%s [%s] %3d%% %lld/%lld %.1f s", label_.c_str(), bar, static_cast<int>(frac * 100),
               static_cast<long long>(done), static_cast<long long>(total_), seconds());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace trm
