// libFuzzer target, raw bytes: the input is a checkpoint file, read as resume does (every group,
// checksum verified), as evaluation does (some groups) and by checkpoint_file_problem(), which
// must agree with the full read. Mostly exercises libhdf5's own parser (seeded with real
// checkpoints); see fuzz_dataset_raw.cpp for how libhdf5's own crashes are handled.
#include <cstdint>
#include <string>

#include "fuzz_util.hpp"
#include "trm/ckpt/checkpoint_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = trm_fuzz::write_file("ckpt.h5", data, size);
  const bool full = trm_fuzz::accepts([&] { trm::read_checkpoint_file(path); });
  trm_fuzz::accepts([&] {
    trm::read_checkpoint_file(path, trm::CheckpointReadOptions{{"model", "ema"}, false});
  });
  std::string problem;
  trm_fuzz::accepts([&] { problem = trm::checkpoint_file_problem(path); });
  if (full != problem.empty()) trm_fuzz::finding("checkpoint_file_problem disagrees with the read", problem.c_str());
  return 0;
}
