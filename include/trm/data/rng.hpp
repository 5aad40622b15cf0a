// Rng: a small deterministic generator (xoshiro256**, seeded through SplitMix64) whose output,
// bounded draws and shuffles are identical on every platform and standard library; the
// dataset converters and the training sampler use it so that a seed fully fixes their output.
#pragma once

#include <cstdint>
#include <utility>

namespace trm {

// SplitMix64 step: a strong 64-bit mixer, also used to derive independent stream seeds.
inline uint64_t splitmix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  // Streams with different (seed, stream) are independent for all practical purposes.
  explicit Rng(uint64_t seed, uint64_t stream = 0) {
    uint64_t sm = seed ^ (0xD1B54A32D192ED03ULL * (stream + 1));
    for (auto& s : s_) s = splitmix64(&sm);
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform integer in [0, n), n >= 1, by rejection (unbiased, platform independent).
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;  // largest multiple of n (exclusive)
    uint64_t x;
    do {
      x = next_u64();
    } while (x >= limit);
    return x % n;
  }
  // Uniform integer in [lo, hi), lo < hi.
  int64_t range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo)));
  }
  // Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  // Fisher-Yates shuffle of [first, last).
  template <typename It>
  void shuffle(It first, It last) {
    const auto n = last - first;
    for (decltype(last - first) i = n - 1; i > 0; --i) {
      const auto j = static_cast<decltype(i)>(below(static_cast<uint64_t>(i) + 1));
      using std::swap;
      swap(first[i], first[j]);
    }
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace trm
