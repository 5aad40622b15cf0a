// Process-wide CPU settings for training and evaluation.
#pragma once

namespace trm {

// Sets LibTorch's intra-op threads (when threads > 0) and keeps freed memory in the heap: a
// training step allocates and frees the same tens-of-megabyte activations thousands of times,
// and glibc's default returns them to the kernel each time, so every reuse page-faults and
// zero-fills them again (about 5% of a C1 step, docs/BENCHMARKS.md). Peak RSS is unchanged.
void configure_cpu_runtime(int threads);

}  // namespace trm
