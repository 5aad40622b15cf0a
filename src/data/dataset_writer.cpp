// DatasetWriter (see dataset_writer.hpp). Each split is cut into shards at fixed group counts
// (shard s holds groups [s*G/S, (s+1)*G/S)); within a shard, full chunks of rows are handed to
// the pool for deflate compression and written back in submission order with H5Dwrite_chunk,
// which stores exactly what HDF5's own deflate filter would, so any HDF5 reader can read them.
#include "trm/data/dataset_writer.hpp"

#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "h5_util.hpp"
#include "trm/common/error.hpp"
#include "trm/data/json.hpp"

namespace trm {
namespace fs = std::filesystem;

std::string shard_file_name(int shard_index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "shard_%05d.h5", shard_index);
  return buf;
}

namespace {

constexpr const char* kWriteHint = "check free disk space and write permission of the output directory";

struct CompressedChunk {
  std::vector<uint8_t> inputs;
  std::vector<uint8_t> labels;
};

std::vector<uint8_t> deflate_bytes(const std::vector<uint8_t>& raw, int level) {
  if (level <= 0) return raw;
  uLongf bound = compressBound(static_cast<uLong>(raw.size()));
  std::vector<uint8_t> out(bound);
  const int rc = compress2(out.data(), &bound, raw.data(), static_cast<uLong>(raw.size()), level);
  TRM_CHECK(rc == Z_OK, "zlib compress2 failed with code " << rc, "out of memory?");
  out.resize(bound);
  return out;
}

}  // namespace

// One shard file being written.
struct ShardWriter {
  std::string path;
  int64_t seq_len = 0;
  int64_t chunk_rows = 0;
  int level = 1;
  ThreadPool* pool = nullptr;
  h5::Handle file, inputs, labels;

  std::vector<uint8_t> buf_inputs, buf_labels;  // [chunk_rows, seq_len]
  int64_t buffered = 0;
  int64_t rows = 0;
  int64_t chunks_written = 0;
  hsize_t extent_rows = 0;
  std::deque<std::future<CompressedChunk>> pending;

  std::vector<int64_t> puzzle_indices{0};  // local example offsets
  std::vector<int64_t> group_indices{0};   // local puzzle offsets
  std::vector<int32_t> identifiers;

  ShardWriter(const std::string& p, int64_t seq, int64_t chunk, int lvl, ThreadPool* tp)
      : path(p), seq_len(seq), chunk_rows(chunk), level(lvl), pool(tp) {
    file = h5::Handle(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT));
    TRM_CHECK(file.valid(), "cannot create " << path, kWriteHint);
    hsize_t dims[2] = {0, static_cast<hsize_t>(seq_len)};
    hsize_t maxdims[2] = {H5S_UNLIMITED, static_cast<hsize_t>(seq_len)};
    hsize_t chunk_dims[2] = {static_cast<hsize_t>(chunk_rows), static_cast<hsize_t>(seq_len)};
    h5::Handle space(H5Screate_simple(2, dims, maxdims));
    h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
    TRM_CHECK(H5Pset_chunk(dcpl.get(), 2, chunk_dims) >= 0, "cannot set chunking for " << path, "");
    if (level > 0) {
      TRM_CHECK(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(level)) >= 0,
                "HDF5 lacks the deflate filter", "install an HDF5 built with zlib");
    }
    inputs = h5::Handle(H5Dcreate2(file.get(), "inputs", H5T_STD_U8LE, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
    labels = h5::Handle(H5Dcreate2(file.get(), "labels", H5T_STD_U8LE, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
    TRM_CHECK(inputs.valid() && labels.valid(), "cannot create the row datasets in " << path, kWriteHint);
    buf_inputs.assign(static_cast<size_t>(chunk_rows * seq_len), 0);
    buf_labels.assign(static_cast<size_t>(chunk_rows * seq_len), 0);
  }

  ~ShardWriter() {
    for (auto& f : pending) {
      if (f.valid()) f.wait();  // tasks own their buffers; just let them finish
    }
  }

  void append(const uint8_t* in, const uint8_t* lab, int64_t n) {
    while (n > 0) {
      const int64_t take = std::min(n, chunk_rows - buffered);
      const size_t off = static_cast<size_t>(buffered * seq_len);
      const size_t len = static_cast<size_t>(take * seq_len);
      std::memcpy(buf_inputs.data() + off, in, len);
      std::memcpy(buf_labels.data() + off, lab, len);
      in += len;
      lab += len;
      buffered += take;
      rows += take;
      n -= take;
      if (buffered == chunk_rows) flush_chunk();
    }
  }

  void flush_chunk() {
    if (buffered == 0) return;
    if (buffered < chunk_rows) {  // the shard's last, partial chunk: zero the tail
      const size_t off = static_cast<size_t>(buffered * seq_len);
      std::fill(buf_inputs.begin() + off, buf_inputs.end(), 0);
      std::fill(buf_labels.begin() + off, buf_labels.end(), 0);
    }
    const int lvl = level;
    pending.push_back(pool->submit([in = buf_inputs, lab = buf_labels, lvl]() {
      return CompressedChunk{deflate_bytes(in, lvl), deflate_bytes(lab, lvl)};
    }));
    buffered = 0;
    const size_t window = static_cast<size_t>(2 * pool->size() + 2);
    while (pending.size() > window) write_front();
  }

  void write_front() {
    CompressedChunk c = pending.front().get();
    pending.pop_front();
    const hsize_t needed = static_cast<hsize_t>((chunks_written + 1) * chunk_rows);
    if (needed > extent_rows) {
      hsize_t dims[2] = {needed, static_cast<hsize_t>(seq_len)};
      TRM_CHECK(H5Dset_extent(inputs.get(), dims) >= 0 && H5Dset_extent(labels.get(), dims) >= 0,
                "cannot extend the row datasets of " << path, kWriteHint);
      extent_rows = needed;
    }
    hsize_t offset[2] = {static_cast<hsize_t>(chunks_written * chunk_rows), 0};
    TRM_CHECK(H5Dwrite_chunk(inputs.get(), H5P_DEFAULT, 0, offset, c.inputs.size(), c.inputs.data()) >= 0 &&
                  H5Dwrite_chunk(labels.get(), H5P_DEFAULT, 0, offset, c.labels.size(), c.labels.data()) >= 0,
              "cannot write a chunk of rows to " << path, kWriteHint);
    ++chunks_written;
  }

  void finish() {
    flush_chunk();
    while (!pending.empty()) write_front();
    hsize_t dims[2] = {static_cast<hsize_t>(rows), static_cast<hsize_t>(seq_len)};
    TRM_CHECK(H5Dset_extent(inputs.get(), dims) >= 0 && H5Dset_extent(labels.get(), dims) >= 0,
              "cannot set the final size of the row datasets of " << path, kWriteHint);
    h5::write_vector_i64(file.get(), "puzzle_indices", puzzle_indices, path);
    h5::write_vector_i64(file.get(), "group_indices", group_indices, path);
    h5::write_vector_i32(file.get(), "puzzle_identifiers", identifiers, path);
    inputs.reset();
    labels.reset();
    TRM_CHECK(H5Fflush(file.get(), H5F_SCOPE_GLOBAL) >= 0, "cannot flush " << path, kWriteHint);
    file.reset();
  }
};

struct ShardInfo {
  std::string path;
  int64_t groups = 0, puzzles = 0, examples = 0;
  int64_t first_group = 0, first_puzzle = 0, first_example = 0;
};

struct DatasetWriter::SplitState {
  std::string name;
  std::string dir;
  int64_t num_groups = 0;
  int num_shards = 1;
  int64_t groups_done = 0;
  bool in_group = false;
  std::unique_ptr<ShardWriter> shard;
  std::vector<ShardInfo> shards;
  int64_t puzzles = 0, examples = 0;

  int64_t shard_first_group(int s) const { return s * num_groups / num_shards; }
};

DatasetWriter::DatasetWriter(DatasetWriterOptions options, DatasetMetadata base, ThreadPool* pool)
    : options_(std::move(options)), base_(std::move(base)), pool_(pool) {
  h5::silence_errors();
  TRM_CHECK(!options_.output_dir.empty(), "no output directory given", "pass --output DIR");
  TRM_CHECK(options_.num_shards >= 1, "--shards must be at least 1, got " << options_.num_shards, "");
  TRM_CHECK(options_.chunk_rows >= 1, "chunk_rows must be at least 1", "");
  TRM_CHECK(options_.compression_level >= 0 && options_.compression_level <= 9,
            "compression level must be 0..9, got " << options_.compression_level, "");
  TRM_CHECK(base_.seq_len > 0, "dataset seq_len must be positive", "");
  fs::path out = fs::path(options_.output_dir).lexically_normal();
  if (out.filename().empty()) out = out.parent_path();
  options_.output_dir = out.string();
  TRM_CHECK(options_.overwrite || !fs::exists(out),
            "output directory " << out.string() << " already exists",
            "choose another --output or pass --force to replace it");
  if (!out.parent_path().empty()) fs::create_directories(out.parent_path());
  temp_dir_ = out.string() + ".tmp-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(temp_dir_, ec);
  TRM_CHECK(fs::create_directory(temp_dir_, ec) && !ec, "cannot create " << temp_dir_ << ": " << ec.message(), kWriteHint);
}

DatasetWriter::~DatasetWriter() {
  if (committed_) return;
  splits_.clear();  // close files (and wait for in-flight compression) before removing them
  std::error_code ec;
  fs::remove_all(temp_dir_, ec);
}

DatasetWriter::SplitState& DatasetWriter::state(const std::string& split) {
  auto it = splits_.find(split);
  TRM_CHECK(it != splits_.end(), "split '" << split << "' was not declared with begin_split", "");
  return *it->second;
}

void DatasetWriter::begin_split(const std::string& split, int64_t num_groups) {
  TRM_CHECK(splits_.count(split) == 0, "split '" << split << "' declared twice", "");
  auto s = std::make_unique<SplitState>();
  s->name = split;
  s->dir = (fs::path(temp_dir_) / split).string();
  s->num_groups = num_groups;
  s->num_shards = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(options_.num_shards, num_groups)));
  fs::create_directories(s->dir);
  splits_[split] = std::move(s);
}

void DatasetWriter::begin_group(const std::string& split) {
  SplitState& s = state(split);
  TRM_CHECK(!s.in_group, "begin_group twice on split " << split, "");
  TRM_CHECK(s.groups_done < s.num_groups,
            "split " << split << " receives more groups than the " << s.num_groups << " declared", "");
  const int next_shard = static_cast<int>(s.shards.size());
  if (!s.shard || (next_shard < s.num_shards && s.groups_done == s.shard_first_group(next_shard))) {
    if (s.shard) s.shard->finish();
    ShardInfo info;
    info.path = (fs::path(s.dir) / shard_file_name(next_shard)).string();
    info.first_group = s.groups_done;
    info.first_puzzle = s.puzzles;
    info.first_example = s.examples;
    s.shards.push_back(info);
    s.shard = std::make_unique<ShardWriter>(info.path, base_.seq_len, options_.chunk_rows,
                                            options_.compression_level, pool_);
  }
  s.in_group = true;
}

void DatasetWriter::add_puzzle(const std::string& split, int32_t identifier, const uint8_t* inputs,
                               const uint8_t* labels, int64_t num_examples) {
  SplitState& s = state(split);
  TRM_CHECK(s.in_group, "add_puzzle outside a group on split " << split, "");
  ShardWriter& w = *s.shard;
  w.append(inputs, labels, num_examples);
  w.puzzle_indices.push_back(w.rows);
  w.identifiers.push_back(identifier);
  ShardInfo& info = s.shards.back();
  info.puzzles += 1;
  info.examples += num_examples;
  s.puzzles += 1;
  s.examples += num_examples;
}

void DatasetWriter::end_group(const std::string& split) {
  SplitState& s = state(split);
  TRM_CHECK(s.in_group, "end_group without begin_group on split " << split, "");
  ShardWriter& w = *s.shard;
  w.group_indices.push_back(static_cast<int64_t>(w.identifiers.size()));
  s.shards.back().groups += 1;
  s.groups_done += 1;
  s.in_group = false;
}

std::string DatasetWriter::side_file_path(const std::string& name) const {
  return (fs::path(temp_dir_) / name).string();
}

void DatasetWriter::write_side_file(const std::string& name, const std::string& content) {
  const std::string path = side_file_path(name);
  std::ofstream f(path, std::ios::binary);
  f << content;
  f.close();
  TRM_CHECK(f.good(), "cannot write " << path, kWriteHint);
}

void DatasetWriter::commit(int64_t num_puzzle_identifiers) {
  TRM_CHECK(!committed_, "dataset committed twice", "");
  for (auto& kv : splits_) {
    SplitState& s = *kv.second;
    TRM_CHECK(!s.in_group, "split " << s.name << " has an unfinished group", "");
    TRM_CHECK(s.groups_done == s.num_groups,
              "split " << s.name << " received " << s.groups_done << " groups, " << s.num_groups << " declared", "");
    if (!s.shard) {  // an empty split still gets one (empty) shard
      ShardInfo info;
      info.path = (fs::path(s.dir) / shard_file_name(0)).string();
      s.shards.push_back(info);
      s.shard = std::make_unique<ShardWriter>(info.path, base_.seq_len, options_.chunk_rows,
                                              options_.compression_level, pool_);
    }
    s.shard->finish();
    s.shard.reset();

    std::string sets_joined;
    for (size_t i = 0; i < base_.sets.size(); ++i) sets_joined += (i ? "," : "") + base_.sets[i];
    const double mean_examples = s.puzzles > 0 ? static_cast<double>(s.examples) / s.puzzles : 0.0;
    for (size_t i = 0; i < s.shards.size(); ++i) {
      const ShardInfo& info = s.shards[i];
      h5::Handle f(H5Fopen(info.path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
      TRM_CHECK(f.valid(), "cannot reopen " << info.path << " to write its metadata", kWriteHint);
      const hid_t id = f.get();
      const std::string& p = info.path;
      h5::write_attr_i64(id, "format_version", kDatasetFormatVersion, p);
      h5::write_attr_str(id, "kind", base_.kind, p);
      h5::write_attr_str(id, "split", s.name, p);
      h5::write_attr_str(id, "sets", sets_joined, p);
      h5::write_attr_i64(id, "seq_len", base_.seq_len, p);
      h5::write_attr_i64(id, "vocab_size", base_.vocab_size, p);
      h5::write_attr_i64(id, "pad_id", base_.pad_id, p);
      h5::write_attr_i64(id, "ignore_label_id", base_.ignore_label_id, p);
      h5::write_attr_i64(id, "blank_identifier_id", base_.blank_identifier_id, p);
      h5::write_attr_i64(id, "num_puzzle_identifiers", num_puzzle_identifiers, p);
      h5::write_attr_i64(id, "total_groups", s.groups_done, p);
      h5::write_attr_i64(id, "total_puzzles", s.puzzles, p);
      h5::write_attr_i64(id, "total_examples", s.examples, p);
      h5::write_attr_f64(id, "mean_puzzle_examples", mean_examples, p);
      h5::write_attr_i64(id, "num_shards", static_cast<int64_t>(s.shards.size()), p);
      h5::write_attr_i64(id, "shard_index", static_cast<int64_t>(i), p);
      h5::write_attr_i64(id, "shard_groups", info.groups, p);
      h5::write_attr_i64(id, "shard_puzzles", info.puzzles, p);
      h5::write_attr_i64(id, "shard_examples", info.examples, p);
      h5::write_attr_i64(id, "first_group", info.first_group, p);
      h5::write_attr_i64(id, "first_puzzle", info.first_puzzle, p);
      h5::write_attr_i64(id, "first_example", info.first_example, p);
      h5::write_attr_i64(id, "chunk_rows", options_.chunk_rows, p);
      TRM_CHECK(H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0, "cannot flush " << p, kWriteHint);
    }

    // dataset.json: the reference's PuzzleDatasetMetadata, for tools that expect it.
    JsonValue::Object meta;
    meta.emplace_back("format_version", JsonValue::make_number(kDatasetFormatVersion));
    meta.emplace_back("kind", JsonValue::make_string(base_.kind));
    meta.emplace_back("seq_len", JsonValue::make_number(static_cast<double>(base_.seq_len)));
    meta.emplace_back("vocab_size", JsonValue::make_number(static_cast<double>(base_.vocab_size)));
    meta.emplace_back("pad_id", JsonValue::make_number(static_cast<double>(base_.pad_id)));
    meta.emplace_back("ignore_label_id", JsonValue::make_number(static_cast<double>(base_.ignore_label_id)));
    meta.emplace_back("blank_identifier_id", JsonValue::make_number(static_cast<double>(base_.blank_identifier_id)));
    meta.emplace_back("num_puzzle_identifiers", JsonValue::make_number(static_cast<double>(num_puzzle_identifiers)));
    meta.emplace_back("total_groups", JsonValue::make_number(static_cast<double>(s.groups_done)));
    meta.emplace_back("mean_puzzle_examples", JsonValue::make_number(mean_examples));
    meta.emplace_back("total_puzzles", JsonValue::make_number(static_cast<double>(s.puzzles)));
    meta.emplace_back("total_examples", JsonValue::make_number(static_cast<double>(s.examples)));
    JsonValue::Array sets;
    for (const auto& name : base_.sets) sets.push_back(JsonValue::make_string(name));
    meta.emplace_back("sets", JsonValue::make_array(std::move(sets)));
    meta.emplace_back("num_shards", JsonValue::make_number(static_cast<double>(s.shards.size())));
    std::ofstream jf((fs::path(s.dir) / "dataset.json").string());
    jf << to_json(JsonValue::make_object(std::move(meta))) << "\n";
    jf.close();
    TRM_CHECK(jf.good(), "cannot write dataset.json in " << s.dir, kWriteHint);
  }

  // Atomic from the user's point of view: the output appears complete or not at all.
  const fs::path out(options_.output_dir);
  std::error_code ec;
  fs::path old;
  if (fs::exists(out)) {
    TRM_CHECK(options_.overwrite, "output directory " << out.string() << " appeared during conversion",
              "choose another --output or pass --force");
    old = out.string() + ".old-" + std::to_string(::getpid());
    fs::rename(out, old, ec);
    TRM_CHECK(!ec, "cannot move the old " << out.string() << " aside: " << ec.message(), kWriteHint);
  }
  fs::rename(temp_dir_, out, ec);
  TRM_CHECK(!ec, "cannot rename " << temp_dir_ << " to " << out.string() << ": " << ec.message(), kWriteHint);
  committed_ = true;
  if (!old.empty()) fs::remove_all(old, ec);
  bytes_written_ = 0;
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    if (e.is_regular_file()) bytes_written_ += static_cast<int64_t>(e.file_size());
  }
}

SplitSummary DatasetWriter::summary(const std::string& split) const {
  auto it = splits_.find(split);
  SplitSummary out;
  if (it == splits_.end()) return out;
  out.groups = it->second->groups_done;
  out.puzzles = it->second->puzzles;
  out.examples = it->second->examples;
  out.num_shards = static_cast<int>(it->second->shards.size());
  return out;
}

int64_t DatasetWriter::bytes_written() const { return bytes_written_; }

}  // namespace trm
