// configure_cpu_runtime (see trm/model/cpu_runtime.hpp).
#include "trm/model/cpu_runtime.hpp"

#include <torch/torch.h>

#include <malloc.h>

namespace trm {

void configure_cpu_runtime(int threads) {
  if (threads > 0) torch::set_num_threads(threads);
#ifdef M_MMAP_THRESHOLD
  // Blocks up to 512 MiB come from the heap, and the heap is trimmed only past 1 GiB free.
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace trm
