// libFuzzer target, structure-aware: the fuzz input is decoded into a dataset split (1-3 shards,
// their puzzles, groups, identifiers and token rows), written as a VALID dataset through the
// HDF5 API exactly as trm-convert lays it out (datasets/SCHEMA.md), then edited by up to 8
// decoded mutations (an attribute or dataset removed, retyped, reshaped, given another value,
// or declared huge without storage; the geometry changed coherently). PuzzleDataset must open
// the unmutated split and read back exactly the rows written, and refuse or survive every
// mutated one with a trm::Error -- never crash, overflow or allocate what the file cannot hold.
#include <fuzzer/FuzzedDataProvider.h>
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "h5_fuzz_writer.hpp"
#include "trm/data/dataset_writer.hpp"
#include "trm/data/puzzle_dataset.hpp"

namespace {

using trm_fuzz::H5Kind;

struct ShardSpec {
  std::vector<int64_t> puzzle_indices{0}, group_indices{0};
  std::vector<int32_t> identifiers;
  std::vector<uint8_t> inputs, labels;  // [rows, seq_len]
  int64_t rows() const { return puzzle_indices.back(); }
};

const char* const kIntAttrs[] = {"format_version", "seq_len", "vocab_size", "pad_id", "ignore_label_id",
                                 "blank_identifier_id", "num_puzzle_identifiers", "total_groups",
                                 "total_puzzles", "total_examples", "num_shards", "shard_index",
                                 "shard_examples"};
const char* const kStrAttrs[] = {"kind", "sets", "split"};
const char* const kDatasets[] = {"puzzle_indices", "group_indices", "puzzle_identifiers", "inputs", "labels"};

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// One decoded edit of a written shard; returns false when it turned out to change nothing.
void mutate(FuzzedDataProvider& fdp, hid_t f, const ShardSpec& s, int64_t seq_len) {
  const int what = fdp.ConsumeIntegralInRange<int>(0, 7);
  const int n_attrs = static_cast<int>(std::size(kIntAttrs) + std::size(kStrAttrs) + 1);
  const int a = fdp.ConsumeIntegralInRange<int>(0, n_attrs - 1);
  const char* attr = a < static_cast<int>(std::size(kIntAttrs)) ? kIntAttrs[a]
                     : a < n_attrs - 1 ? kStrAttrs[a - std::size(kIntAttrs)]
                                       : "mean_puzzle_examples";
  const std::string dset = kDatasets[fdp.ConsumeIntegralInRange<int>(0, 4)];
  switch (what) {
    case 0:  // an attribute gets another integer value
      trm_fuzz::h5_put_i64_attr(f, attr, fdp.ConsumeBool() ? fdp.ConsumeIntegralInRange<int64_t>(-2, 8)
                                                           : fdp.ConsumeIntegral<int64_t>());
      break;
    case 1:  // an attribute disappears
      H5Adelete(f, attr);
      break;
    case 2: {  // an attribute of any type and shape
      const auto kind = static_cast<H5Kind>(fdp.ConsumeIntegralInRange<int>(0, trm_fuzz::kNumH5Kinds - 1));
      const int rank = trm_fuzz::fuzz_rank(fdp);
      const std::vector<hsize_t> dims = trm_fuzz::fuzz_dims(fdp, rank, false);
      const size_t str = fdp.ConsumeIntegralInRange<size_t>(0, 16);
      trm_fuzz::h5_put_attr(f, attr, kind, str, rank, dims, fdp.ConsumeBytes<uint8_t>(16));
      break;
    }
    case 3:  // a dataset disappears, or a group takes its name
      H5Ldelete(f, dset.c_str(), H5P_DEFAULT);
      if (fdp.ConsumeBool()) H5Gclose(H5Gcreate2(f, dset.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
      break;
    case 4: {  // a dataset of any type and shape, maybe huge and unallocated
      const auto kind = static_cast<H5Kind>(fdp.ConsumeIntegralInRange<int>(0, trm_fuzz::kNumH5Kinds - 1));
      const int rank = trm_fuzz::fuzz_rank(fdp);
      const std::vector<hsize_t> dims = trm_fuzz::fuzz_dims(fdp, rank, true);
      const hsize_t chunk = fdp.ConsumeIntegralInRange<hsize_t>(0, 3);
      const bool write = fdp.ConsumeBool();
      trm_fuzz::h5_put_dataset(f, dset, kind, 8, rank, dims, fdp.ConsumeBytes<uint8_t>(32), chunk, write);
      break;
    }
    case 5: {  // one element of an index array changes
      const int which = fdp.ConsumeIntegralInRange<int>(0, 2);
      const int64_t v = fdp.ConsumeBool() ? fdp.ConsumeIntegralInRange<int64_t>(-2, 8) : fdp.ConsumeIntegral<int64_t>();
      if (which == 2) {
        std::vector<int32_t> ids = s.identifiers;
        if (ids.empty()) break;
        ids[fdp.ConsumeIntegralInRange<size_t>(0, ids.size() - 1)] = static_cast<int32_t>(v);
        trm_fuzz::h5_put_dataset(f, "puzzle_identifiers", H5Kind::kI32, 0, 1, {ids.size()}, bytes_of(ids), 0, true);
      } else {
        std::vector<int64_t> idx = which == 0 ? s.puzzle_indices : s.group_indices;
        idx[fdp.ConsumeIntegralInRange<size_t>(0, idx.size() - 1)] = v;
        if (fdp.ConsumeBool()) idx.push_back(v);
        trm_fuzz::h5_put_dataset(f, kDatasets[which], H5Kind::kI64, 0, 1, {idx.size()}, bytes_of(idx), 0, true);
      }
      break;
    }
    case 6: {  // the geometry changes coherently: seq_len and the rows' width (and row count)
      const int64_t width = fdp.ConsumeBool() ? fdp.ConsumeIntegralInRange<int64_t>(0, 8)
                                              : (int64_t{1} << fdp.ConsumeIntegralInRange<int>(20, 62));
      const int64_t rows = fdp.ConsumeBool() ? s.rows() : (int64_t{1} << fdp.ConsumeIntegralInRange<int>(20, 62));
      trm_fuzz::h5_put_i64_attr(f, "seq_len", width);
      for (const char* d : {"inputs", "labels"}) {
        trm_fuzz::h5_put_dataset(f, d, H5Kind::kU8, 0, 2, {hsize_t(rows), hsize_t(width)}, {}, 1, false);
      }
      if (rows != s.rows()) {
        std::vector<int64_t> pidx = s.puzzle_indices;
        pidx.back() = rows;
        trm_fuzz::h5_put_dataset(f, "puzzle_indices", H5Kind::kI64, 0, 1, {pidx.size()}, bytes_of(pidx), 0, true);
        trm_fuzz::h5_put_i64_attr(f, "shard_examples", rows);
        trm_fuzz::h5_put_i64_attr(f, "total_examples", rows);
      }
      break;
    }
    default: {  // the row data holds other bytes (any token value)
      std::vector<uint8_t> rows = s.inputs;
      for (uint8_t& b : rows) b = fdp.ConsumeIntegral<uint8_t>();
      trm_fuzz::h5_put_dataset(f, dset == "labels" ? "labels" : "inputs", H5Kind::kU8, 0, 2,
                               {hsize_t(s.rows()), hsize_t(seq_len)}, rows, 2, true);
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // refused edits are expected, and quiet
    return true;
  }();
  (void)init;
  FuzzedDataProvider fdp(data, size);
  const int64_t seq_len = fdp.ConsumeIntegralInRange<int64_t>(1, 12);
  const int64_t vocab = fdp.ConsumeIntegralInRange<int64_t>(2, 12);
  const int64_t num_ids = fdp.ConsumeIntegralInRange<int64_t>(1, 6);
  const int num_shards = fdp.ConsumeIntegralInRange<int>(1, 3);
  std::vector<ShardSpec> shards(static_cast<size_t>(num_shards));
  int64_t total_groups = 0, total_puzzles = 0, total_examples = 0;
  for (ShardSpec& s : shards) {
    const int groups = fdp.ConsumeIntegralInRange<int>(0, 3);
    for (int g = 0; g < groups; ++g) {
      const int puzzles = fdp.ConsumeIntegralInRange<int>(1, 3);
      for (int p = 0; p < puzzles; ++p) {
        s.puzzle_indices.push_back(s.puzzle_indices.back() + fdp.ConsumeIntegralInRange<int64_t>(1, 3));
        s.identifiers.push_back(fdp.ConsumeIntegralInRange<int32_t>(0, static_cast<int32_t>(num_ids - 1)));
      }
      s.group_indices.push_back(s.group_indices.back() + puzzles);
    }
    for (int64_t i = 0; i < s.rows() * seq_len; ++i) {
      s.inputs.push_back(static_cast<uint8_t>(fdp.ConsumeIntegralInRange<int64_t>(0, vocab - 1)));
      s.labels.push_back(static_cast<uint8_t>(fdp.ConsumeIntegralInRange<int64_t>(0, vocab - 1)));
    }
    total_groups += groups;
    total_puzzles += static_cast<int64_t>(s.identifiers.size());
    total_examples += s.rows();
  }
  namespace fs = std::filesystem;
  const fs::path dir = trm_fuzz::scratch_dir() / "dataset";
  fs::remove_all(dir);
  fs::create_directories(dir / "train");
  int mutations = 0;
  for (int i = 0; i < num_shards; ++i) {
    const ShardSpec& s = shards[static_cast<size_t>(i)];
    const std::string path = (dir / "train" / trm::shard_file_name(i)).string();
    const hid_t f = trm_fuzz::h5_ok(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "H5Fcreate");
    const int64_t ints[] = {trm::kDatasetFormatVersion, seq_len, vocab, 0, 0, 0, num_ids, total_groups,
                            total_puzzles, total_examples, num_shards, i, s.rows()};
    for (size_t k = 0; k < std::size(kIntAttrs); ++k) trm_fuzz::h5_put_i64_attr(f, kIntAttrs[k], ints[k]);
    trm_fuzz::h5_put_str_attr(f, "kind", "sudoku");
    trm_fuzz::h5_put_str_attr(f, "sets", "all");
    trm_fuzz::h5_put_str_attr(f, "split", "train");
    trm_fuzz::h5_put_f64_attr(f, "mean_puzzle_examples",
                              total_puzzles > 0 ? double(total_examples) / double(total_puzzles) : 0.0);
    trm_fuzz::h5_put_dataset(f, "puzzle_indices", H5Kind::kI64, 0, 1, {s.puzzle_indices.size()},
                             bytes_of(s.puzzle_indices), 0, true);
    trm_fuzz::h5_put_dataset(f, "group_indices", H5Kind::kI64, 0, 1, {s.group_indices.size()},
                             bytes_of(s.group_indices), 0, true);
    trm_fuzz::h5_put_dataset(f, "puzzle_identifiers", H5Kind::kI32, 0, 1, {s.identifiers.size()},
                             bytes_of(s.identifiers), 0, true);
    const std::vector<hsize_t> dims{hsize_t(s.rows()), hsize_t(seq_len)};
    trm_fuzz::h5_put_dataset(f, "inputs", H5Kind::kU8, 0, 2, dims, s.inputs, 2, true);
    trm_fuzz::h5_put_dataset(f, "labels", H5Kind::kU8, 0, 2, dims, s.labels, 2, true);
    const int edits = fdp.ConsumeIntegralInRange<int>(0, 8);
    for (int e = 0; e < edits; ++e) mutate(fdp, f, s, seq_len);
    mutations += edits;
    H5Fclose(f);
  }
  const int64_t in_memory = fdp.ConsumeBool() ? 0 : trm::PuzzleDataset::kDefaultInMemoryBytes;
  const bool accepted = trm_fuzz::accepts([&] {
    trm::PuzzleDataset ds(dir.string(), "train", in_memory);
    // Read every row (at most 64), in reverse so that runs and repeats both occur.
    const int64_t n = std::min<int64_t>(ds.num_examples(), 64);
    const int64_t seq = ds.metadata().seq_len;
    if (n <= 0) return;
    if (seq <= 0 || seq > 4096) trm_fuzz::finding("accepted seq_len", std::to_string(seq).c_str());
    std::vector<int64_t> rows;
    for (int64_t r = n - 1; r >= 0; --r) rows.push_back(r);
    std::vector<int32_t> in(static_cast<size_t>(n * seq)), lab(static_cast<size_t>(n * seq));
    ds.read_examples(rows.data(), n, in.data(), lab.data());
    for (int64_t r = 0; r < n; ++r) ds.puzzle_of_example(r);
    if (mutations > 0) return;
    // Unmutated: exactly the rows written, in the order asked for.
    int64_t row = n - 1;
    for (int64_t k = 0; k < n; ++k, --row) {
      int64_t shard_row = row;
      size_t sh = 0;
      while (shard_row >= shards[sh].rows()) shard_row -= shards[sh++].rows();
      for (int64_t t = 0; t < seq; ++t) {
        const size_t src = static_cast<size_t>(shard_row * seq + t), dst = static_cast<size_t>(k * seq + t);
        if (in[dst] != shards[sh].inputs[src] || lab[dst] != shards[sh].labels[src]) {
          trm_fuzz::finding("rows read back differ from the rows written", "");
        }
      }
    }
  });
  if (mutations == 0 && !accepted) trm_fuzz::finding("refused a valid split", "");
  return 0;
}
