// DatasetWriter: streams groups of puzzles into the HDF5 shards of datasets/SCHEMA.md. Rows are
// packed into chunks of chunk_rows examples, deflate-compressed on a ThreadPool and written in
// order with HDF5's direct chunk write, so memory stays bounded by a few chunks per split.
// Everything goes to "<output>.tmp-<pid>" and is renamed to <output> by commit(); destroying
// an uncommitted writer (an error) removes the temporary directory, leaving nothing behind.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "trm/data/dataset_metadata.hpp"
#include "trm/data/thread_pool.hpp"

namespace trm {

struct DatasetWriterOptions {
  std::string output_dir;
  int num_shards = 1;          // per split; at most one shard per group
  int chunk_rows = 32;         // examples per HDF5 chunk (random reads decompress one chunk)
  int compression_level = 1;   // deflate level 1..9 (1: fastest, ratio ~17 on ARC)
  bool overwrite = false;      // replace an existing output directory
};

struct SplitSummary {
  int64_t groups = 0;
  int64_t puzzles = 0;
  int64_t examples = 0;
  int num_shards = 0;
};

class DatasetWriter {
 public:
  // base: kind, seq_len, vocab_size, pad/ignore/blank ids and sets; the counts are computed.
  // pool: compression workers (outlives the writer).
  DatasetWriter(DatasetWriterOptions options, DatasetMetadata base, ThreadPool* pool);
  ~DatasetWriter();
  DatasetWriter(const DatasetWriter&) = delete;
  DatasetWriter& operator=(const DatasetWriter&) = delete;

  // Declares a split and how many groups it will receive (fixes the shard boundaries).
  void begin_split(const std::string& split, int64_t num_groups);
  void begin_group(const std::string& split);
  // One puzzle of num_examples examples; inputs/labels hold num_examples * seq_len tokens.
  void add_puzzle(const std::string& split, int32_t identifier, const uint8_t* inputs,
                  const uint8_t* labels, int64_t num_examples);
  void end_group(const std::string& split);

  // Side files (identifiers.json, test_puzzles.json) in the output root; path in the temp dir.
  std::string side_file_path(const std::string& name) const;
  void write_side_file(const std::string& name, const std::string& content);

  // Finishes every split (metadata attributes, dataset.json), then renames into place.
  // num_puzzle_identifiers includes the blank identifier.
  void commit(int64_t num_puzzle_identifiers);

  SplitSummary summary(const std::string& split) const;
  int64_t bytes_written() const;  // after commit: bytes of the output directory
  const std::string& temp_dir() const { return temp_dir_; }

 private:
  struct SplitState;
  SplitState& state(const std::string& split);

  DatasetWriterOptions options_;
  DatasetMetadata base_;
  ThreadPool* pool_;
  std::string temp_dir_;
  bool committed_ = false;
  int64_t bytes_written_ = 0;
  std::map<std::string, std::unique_ptr<SplitState>> splits_;
};

// Shard file name inside <output>/<split>/: shard_00000.h5, shard_00001.h5, ...
std::string shard_file_name(int shard_index);

}  // namespace trm
