// ProgressBar: a one-line progress display on stderr for the converters ("[####    ] 45% 430/960
// groups 12.3 s"), redrawn at most 10 times a second; silent when disabled.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace trm {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, bool enabled);
  void update(int64_t done);
  void finish();  // draws 100% and ends the line
  double seconds() const;

 private:
  void draw(int64_t done);
  std::string label_;
  int64_t total_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool drawn_ = false;
};

}  // namespace trm
