// libFuzzer target, raw bytes: the input is shard 0 of a one-shard "train" split, opened with
// PuzzleDataset and read row by row. Mostly exercises libhdf5's own file parser (seeded with
// real shards); crashes whose stack lies entirely in libhdf5 are recorded in
// tests/fuzz/known_hdf5_crashes/ and docs/FUZZING.md, not fixed here.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "trm/data/dataset_writer.hpp"
#include "trm/data/puzzle_dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = (trm_fuzz::scratch_dir() / "dataset").string();
  trm_fuzz::write_file("dataset/train/" + trm::shard_file_name(0), data, size);
  trm_fuzz::accepts([&] {
    trm::PuzzleDataset ds(dir, "train", size % 2 == 0 ? 0 : trm::PuzzleDataset::kDefaultInMemoryBytes);
    const int64_t n = std::min<int64_t>(ds.num_examples(), 16);
    const int64_t seq = ds.metadata().seq_len;
    if (n <= 0 || seq > 4096) return;
    std::vector<int64_t> rows;
    for (int64_t r = 0; r < n; ++r) rows.push_back(r);
    std::vector<int32_t> in(static_cast<size_t>(n * seq)), lab(static_cast<size_t>(n * seq));
    ds.read_examples(rows.data(), n, in.data(), lab.data());
  });
  return 0;
}
