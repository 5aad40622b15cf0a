// Skips a CPU bfloat16 test under an artificial oneDNN ISA cap. LibTorch sends bfloat16 products to
// oneDNN when the CPU itself has AVX-512 (cpuinfo, not oneDNN's view); tools/check_isa.sh's
// ONEDNN_MAX_CPU_ISA cap below AVX-512 then leaves oneDNN with no kernel for them ("could not
// create a primitive descriptor iterator"). No real CPU is in that state.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#define TRM_SKIP_UNDER_ONEDNN_BF16_CAP()                                                    \
  do {                                                                                      \
    const char* trm_cap = std::getenv("ONEDNN_MAX_CPU_ISA");                                \
    if (trm_cap != nullptr && std::string(trm_cap).rfind("AVX512", 0) != 0 &&               \
        std::string(trm_cap) != "ALL") {                                                    \
      GTEST_SKIP() << "ONEDNN_MAX_CPU_ISA=" << trm_cap                                      \
                   << " hides oneDNN's bfloat16 kernels from LibTorch (tests/onednn_cap.hpp)"; \
    }                                                                                       \
  } while (0)
