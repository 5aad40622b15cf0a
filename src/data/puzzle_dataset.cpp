// PuzzleDataset (see puzzle_dataset.hpp): opens <dir>/<split>/shard_*.h5, validates them against
// each other and makes the per-shard (local) index arrays global. Reads sort the requested rows,
// read each run of consecutive rows of one shard with a single hyperslab, and scatter back.
#include "trm/data/puzzle_dataset.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <sstream>

#include "h5_util.hpp"
#include "trm/common/error.hpp"
#include "trm/data/dataset_writer.hpp"
#include "trm/data/json.hpp"

namespace trm {
namespace fs = std::filesystem;

struct PuzzleDataset::Shard {
  std::string path;
  h5::Handle file, inputs, labels;
  int64_t rows = 0;
  std::mutex mutex;  // one hyperslab read at a time per shard
  // Whole shard in memory ([rows, seq_len] each) when the split is small; empty otherwise.
  std::vector<uint8_t> mem_inputs, mem_labels;
};


namespace {

std::string rebuild_hint(const std::string& dir) {
  return "rebuild the dataset: delete " + dir + " and run trm-convert again (datasets/README.md)";
}

}  // namespace

PuzzleDataset::PuzzleDataset(const std::vector<std::string>& dirs, const std::string& split,
                             int64_t max_in_memory_bytes)
    : dirs_(dirs), split_(split) {
  h5::silence_errors();
  TRM_CHECK(!dirs.empty(), "no dataset directory given", "set data_paths in the config");
  puzzle_indices_.push_back(0);
  group_indices_.push_back(0);
  shard_first_example_.push_back(0);
  bool first_dataset = true;
  for (const std::string& dir : dirs) {
    const std::string hint = rebuild_hint(dir);
    const fs::path split_dir = fs::path(dir) / split;
    TRM_CHECK(fs::is_directory(split_dir),
              "dataset " << dir << " has no split '" << split << "' (" << split_dir.string() << " missing)",
              "check data_paths; a dataset is the --output directory of trm-convert");
    // The shard count comes from shard 0; every shard_<i> for i < count must exist.
    const std::string shard0 = (split_dir / shard_file_name(0)).string();
    TRM_CHECK(fs::is_regular_file(shard0), "missing shard " << shard0, hint);
    int64_t num_shards = -1;
    DatasetMetadata meta;
    for (int64_t i = 0; num_shards < 0 || i < num_shards; ++i) {
      const std::string path = (split_dir / shard_file_name(static_cast<int>(i))).string();
      TRM_CHECK(fs::is_regular_file(path),
                "missing shard " << path << " (the split has " << num_shards << " shards)", hint);
      auto shard = std::make_unique<Shard>();
      shard->path = path;
      shard->file = h5::Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
      TRM_CHECK(shard->file.valid(), "cannot open " << path << ": not an HDF5 file, or truncated/damaged", hint);
      const hid_t f = shard->file.get();
      const char* h = hint.c_str();
      TRM_CHECK(h5::has_attr(f, "format_version"),
                path << " has no format_version attribute (not written by trm-convert, or incomplete)", hint);
      const int64_t version = h5::read_attr_i64(f, "format_version", path, h);
      TRM_CHECK(version == kDatasetFormatVersion,
                path << " has dataset format version " << version << ", this build reads version "
                     << kDatasetFormatVersion,
                hint + " with this build's trm-convert");
      DatasetMetadata m;
      m.format_version = static_cast<int>(version);
      m.kind = h5::read_attr_str(f, "kind", path, h);
      const std::string sets = h5::read_attr_str(f, "sets", path, h);
      m.sets.clear();
      std::stringstream ss(sets);
      for (std::string item; std::getline(ss, item, ',');) m.sets.push_back(item);
      m.seq_len = h5::read_attr_i64(f, "seq_len", path, h);
      m.vocab_size = h5::read_attr_i64(f, "vocab_size", path, h);
      m.pad_id = h5::read_attr_i64(f, "pad_id", path, h);
      m.ignore_label_id = h5::read_attr_i64(f, "ignore_label_id", path, h);
      m.blank_identifier_id = h5::read_attr_i64(f, "blank_identifier_id", path, h);
      m.num_puzzle_identifiers = h5::read_attr_i64(f, "num_puzzle_identifiers", path, h);
      m.total_groups = h5::read_attr_i64(f, "total_groups", path, h);
      m.total_puzzles = h5::read_attr_i64(f, "total_puzzles", path, h);
      m.total_examples = h5::read_attr_i64(f, "total_examples", path, h);
      m.mean_puzzle_examples = h5::read_attr_f64(f, "mean_puzzle_examples", path, h);
      const std::string shard_split = h5::read_attr_str(f, "split", path, h);
      TRM_CHECK(shard_split == split, path << " belongs to split '" << shard_split << "', not '" << split << "'", hint);
      const int64_t n_shards = h5::read_attr_i64(f, "num_shards", path, h);
      const int64_t shard_index = h5::read_attr_i64(f, "shard_index", path, h);
      TRM_CHECK(shard_index == i, path << " says it is shard " << shard_index << ", expected " << i, hint);
      if (i == 0) {
        TRM_CHECK(n_shards >= 1, path << " has num_shards " << n_shards, hint);
        num_shards = n_shards;
        meta = m;
      } else {
        const bool same = n_shards == num_shards && m.kind == meta.kind && m.sets == meta.sets &&
                          m.seq_len == meta.seq_len && m.vocab_size == meta.vocab_size &&
                          m.pad_id == meta.pad_id && m.ignore_label_id == meta.ignore_label_id &&
                          m.blank_identifier_id == meta.blank_identifier_id &&
                          m.num_puzzle_identifiers == meta.num_puzzle_identifiers &&
                          m.total_groups == meta.total_groups && m.total_puzzles == meta.total_puzzles &&
                          m.total_examples == meta.total_examples;
        TRM_CHECK(same, "shards disagree: the metadata of " << path << " differs from " << shard0
                                                              << " (shards of different conversions mixed?)",
                  hint);
      }

      // Local index arrays -> global.
      const std::vector<int64_t> pidx = h5::read_vector_i64(f, "puzzle_indices", path, h);
      const std::vector<int64_t> gidx = h5::read_vector_i64(f, "group_indices", path, h);
      const std::vector<int32_t> ids = h5::read_vector_i32(f, "puzzle_identifiers", path, h);
      shard->inputs = h5::Handle(H5Dopen2(f, "inputs", H5P_DEFAULT));
      shard->labels = h5::Handle(H5Dopen2(f, "labels", H5P_DEFAULT));
      TRM_CHECK(shard->inputs.valid() && shard->labels.valid(), path << " lacks the inputs/labels datasets", hint);
      hsize_t dims[2] = {0, 0};
      for (const hid_t d : {shard->inputs.get(), shard->labels.get()}) {
        h5::Handle space(H5Dget_space(d));
        TRM_CHECK(H5Sget_simple_extent_ndims(space.get()) == 2, path << ": inputs/labels are not 2-D", hint);
        hsize_t dd[2];
        H5Sget_simple_extent_dims(space.get(), dd, nullptr);
        TRM_CHECK(m.seq_len >= 1 && static_cast<int64_t>(dd[1]) == m.seq_len,
                  path << ": rows have " << dd[1] << " tokens, metadata says seq_len " << m.seq_len, hint);
        // Bounds rows * seq_len by the file's size, so the sizes below cannot overflow.
        const hsize_t cells = dd[0] > ~hsize_t{0} / dd[1] ? ~hsize_t{0} : dd[0] * dd[1];
        h5::check_storage_holds(d, cells, "inputs/labels", path, h);
        if (d == shard->inputs.get()) {
          dims[0] = dd[0];
        } else {
          TRM_CHECK(dd[0] == dims[0], path << ": inputs and labels have different row counts", hint);
        }
      }
      shard->rows = static_cast<int64_t>(dims[0]);
      TRM_CHECK(!pidx.empty() && !gidx.empty() && pidx.front() == 0 && gidx.front() == 0 &&
                    pidx.back() == shard->rows && gidx.back() == static_cast<int64_t>(ids.size()) &&
                    pidx.size() == ids.size() + 1 && std::is_sorted(pidx.begin(), pidx.end()) &&
                    std::is_sorted(gidx.begin(), gidx.end()) &&
                    h5::read_attr_i64(f, "shard_examples", path, h) == shard->rows,
                path << " has inconsistent index arrays (damaged or incomplete file)", hint);
      for (const int32_t id : ids) {
        TRM_CHECK(id >= 0 && id < m.num_puzzle_identifiers,
                  path << " holds puzzle identifier " << id << " outside [0, " << m.num_puzzle_identifiers << ")", hint);
      }
      const int64_t example_base = puzzle_indices_.back();
      const int64_t puzzle_base = static_cast<int64_t>(puzzle_identifiers_.size());
      for (size_t k = 1; k < pidx.size(); ++k) puzzle_indices_.push_back(example_base + pidx[k]);
      for (size_t k = 1; k < gidx.size(); ++k) group_indices_.push_back(puzzle_base + gidx[k]);
      puzzle_identifiers_.insert(puzzle_identifiers_.end(), ids.begin(), ids.end());
      shard_first_example_.push_back(shard_first_example_.back() + shard->rows);
      shards_.push_back(std::move(shard));
    }
    // This dataset's totals must match what its shards hold.
    const int64_t got_examples = puzzle_indices_.back() - (metadata_.total_examples);
    const int64_t got_groups = static_cast<int64_t>(group_indices_.size()) - 1 - metadata_.total_groups;
    TRM_CHECK(got_examples == meta.total_examples && got_groups == meta.total_groups,
              "dataset " << dir << " split " << split << " holds " << got_groups << " groups / " << got_examples
                         << " examples in its shards, its metadata says " << meta.total_groups << " / "
                         << meta.total_examples << " (a shard is missing or from another conversion)",
              hint);
    if (first_dataset) {
      metadata_ = meta;
    } else {
      TRM_CHECK(meta.seq_len == metadata_.seq_len && meta.vocab_size == metadata_.vocab_size &&
                    meta.pad_id == metadata_.pad_id && meta.ignore_label_id == metadata_.ignore_label_id &&
                    meta.blank_identifier_id == metadata_.blank_identifier_id,
                "dataset " << dir << " is incompatible with " << dirs.front()
                           << " (seq_len, vocab_size or special ids differ)",
                "combine only datasets of the same kind");
      metadata_.num_puzzle_identifiers = std::max(metadata_.num_puzzle_identifiers, meta.num_puzzle_identifiers);
      metadata_.total_groups += meta.total_groups;
      metadata_.total_puzzles += meta.total_puzzles;
      metadata_.total_examples += meta.total_examples;
    }
    first_dataset = false;
  }
  metadata_.mean_puzzle_examples =
      metadata_.total_puzzles > 0 ? static_cast<double>(metadata_.total_examples) / metadata_.total_puzzles : 0.0;

  // In memory, a row costs a memcpy instead of a chunk decompression.
  if (num_examples() * metadata_.seq_len * 2 <= max_in_memory_bytes) {
    for (auto& shard : shards_) {
      const size_t bytes = static_cast<size_t>(shard->rows * metadata_.seq_len);
      shard->mem_inputs.resize(bytes);
      shard->mem_labels.resize(bytes);
      if (bytes == 0) continue;
      for (int which = 0; which < 2; ++which) {
        const hid_t d = which == 0 ? shard->inputs.get() : shard->labels.get();
        TRM_CHECK(H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                          which == 0 ? shard->mem_inputs.data() : shard->mem_labels.data()) >= 0,
                  "cannot read " << shard->path << " (damaged file: its compressed data does not decode)",
                  rebuild_hint(fs::path(shard->path).parent_path().parent_path().string()));
      }
    }
  }
}

PuzzleDataset::~PuzzleDataset() = default;

int64_t PuzzleDataset::puzzle_of_example(int64_t row) const {
  TRM_CHECK(row >= 0 && row < num_examples(), "example row " << row << " out of range", "");
  const auto it = std::upper_bound(puzzle_indices_.begin(), puzzle_indices_.end(), row);
  return static_cast<int64_t>(it - puzzle_indices_.begin()) - 1;
}

void PuzzleDataset::read_examples(const int64_t* rows, int64_t n, int32_t* inputs, int32_t* labels) const {
  if (n <= 0) return;
  const int64_t seq = metadata_.seq_len;
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return rows[a] < rows[b]; });
  std::vector<uint8_t> buf_in, buf_lab;
  size_t i = 0;
  while (i < order.size()) {
    const int64_t start = rows[order[i]];
    TRM_CHECK(start >= 0 && start < num_examples(),
              "example row " << start << " out of range [0, " << num_examples() << ")", "");
    const auto sit = std::upper_bound(shard_first_example_.begin(), shard_first_example_.end(), start);
    const size_t s = static_cast<size_t>(sit - shard_first_example_.begin()) - 1;
    const int64_t shard_end = shard_first_example_[s + 1];
    // Extend the run while rows are consecutive (or repeated) and in this shard.
    size_t j = i + 1;
    int64_t last = start;
    while (j < order.size()) {
      const int64_t r = rows[order[j]];
      if (r > last + 1 || r >= shard_end) break;
      last = r;
      ++j;
    }
    const int64_t count = last - start + 1;
    buf_in.resize(static_cast<size_t>(count * seq));
    buf_lab.resize(static_cast<size_t>(count * seq));
    Shard& shard = *shards_[s];
    if (!shard.mem_inputs.empty()) {
      const size_t off = static_cast<size_t>((start - shard_first_example_[s]) * seq);
      std::memcpy(buf_in.data(), shard.mem_inputs.data() + off, buf_in.size());
      std::memcpy(buf_lab.data(), shard.mem_labels.data() + off, buf_lab.size());
    } else {
      std::lock_guard<std::mutex> lock(shard.mutex);
      hsize_t offset[2] = {static_cast<hsize_t>(start - shard_first_example_[s]), 0};
      hsize_t counts[2] = {static_cast<hsize_t>(count), static_cast<hsize_t>(seq)};
      h5::Handle mem(H5Screate_simple(2, counts, nullptr));
      for (int which = 0; which < 2; ++which) {
        const hid_t d = which == 0 ? shard.inputs.get() : shard.labels.get();
        h5::Handle space(H5Dget_space(d));
        const bool ok = H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, offset, nullptr, counts, nullptr) >= 0 &&
                        H5Dread(d, H5T_NATIVE_UINT8, mem.get(), space.get(), H5P_DEFAULT,
                                which == 0 ? buf_in.data() : buf_lab.data()) >= 0;
        TRM_CHECK(ok, "cannot read rows " << offset[0] << ".." << offset[0] + count - 1 << " of " << shard.path
                                          << " (damaged file: its compressed data does not decode)",
                  rebuild_hint(fs::path(shard.path).parent_path().parent_path().string()));
      }
    }
    for (size_t k = i; k < j; ++k) {
      const int64_t out_row = order[k];
      const int64_t local = rows[out_row] - start;
      const uint8_t* src_in = buf_in.data() + local * seq;
      const uint8_t* src_lab = buf_lab.data() + local * seq;
      int32_t* dst_in = inputs + out_row * seq;
      int32_t* dst_lab = labels + out_row * seq;
      for (int64_t t = 0; t < seq; ++t) {
        dst_in[t] = src_in[t];
        dst_lab[t] = src_lab[t];
      }
    }
    i = j;
  }
}

std::vector<std::string> read_identifiers(const std::vector<std::string>& dirs) {
  std::vector<std::string> merged;
  for (const std::string& dir : dirs) {
    const std::string path = (fs::path(dir) / "identifiers.json").string();
    TRM_CHECK(fs::is_regular_file(path), "dataset " << dir << " has no identifiers.json", rebuild_hint(dir));
    const JsonValue v = parse_json_file(path);
    TRM_CHECK(v.is_array(), path << " is not a JSON list of names", rebuild_hint(dir));
    const auto& names = v.as_array();
    if (merged.size() < names.size()) merged.resize(names.size(), "<blank>");
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string& name = names[i].as_string();
      if (name == "<blank>") continue;
      TRM_CHECK(merged[i] == "<blank>" || merged[i] == name,
                "identifier " << i << " is '" << merged[i] << "' in one dataset and '" << name << "' in " << path,
                "convert the datasets with disjoint --puzzle-identifiers-start ranges");
      merged[i] = name;
    }
  }
  return merged;
}

std::vector<std::string> read_identifiers(const std::string& dir) {
  return read_identifiers(std::vector<std::string>{dir});
}

std::string test_puzzles_path(const std::string& dir) {
  return (fs::path(dir) / "test_puzzles.json").string();
}

}  // namespace trm
