// THE checkpoint I/O of trm-dist: one HDF5 file per checkpoint, written atomically and verified
// by a CRC32 over every dataset. Training (resume, --init-from), trm-eval and the Python tools
// (tools/convert_reference_checkpoint.py) all read and write checkpoints through this layout;
// docs/CHECKPOINTS.md documents it with an h5py snippet.
//
// File layout (format "trm-dist-checkpoint", version kCheckpointFormatVersion):
//   /<group>/<name>   tensors of CheckpointContent::tensors, e.g. /model/inner.lm_head.weight,
//                     /ema/..., /optim/m/..., /puzzle_emb/inner.puzzle_emb.weights, /carry/rank1/y
//   /state/<key>      0-d int64 (ints), 0-d float64 (floats), 1-d uint8 (blobs), e.g.
//                     /state/step, /state/sampler, /state/rng/rank0
//   /<key>            1-d uint8 UTF-8 text (texts), e.g. /config (the resolved TOML)
//   root attributes   format, format_version, checksum_crc32 (uint32), created_by
// The checksum is zlib's CRC32 chained over every dataset in byte order of its path (no leading
// '/'): crc = crc32(path bytes, crc); crc = crc32(raw little-endian data bytes, crc).
// bool, float16 and bfloat16 tensors are stored as uint8/uint16 with an attribute torch_dtype.
// Invariant: a file that exists under its final name is complete (temp file + fsync + rename +
// fsync of the directory); a file that fails to open or whose checksum differs is "damaged".
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace trm {

constexpr int kCheckpointFormatVersion = 1;
constexpr const char* kCheckpointFormatName = "trm-dist-checkpoint";

// Tensors by name (state-dict names; a name never contains '/'). Ordered, so files are
// byte-for-byte reproducible.
using TensorMap = std::map<std::string, torch::Tensor>;

struct CheckpointContent {
  // Group path (may nest with '/': "optim/m", "carry/rank1") -> tensors. "state" is reserved.
  std::map<std::string, TensorMap> tensors;
  std::map<std::string, int64_t> ints;                  // /state/<key>
  std::map<std::string, double> floats;                 // /state/<key>
  std::map<std::string, std::vector<uint8_t>> blobs;    // /state/<key> (opaque bytes)
  std::map<std::string, std::string> texts;             // /<key> (e.g. "config")

  bool has_group(const std::string& group) const { return tensors.count(group) > 0; }
  // Accessors that throw trm::Error naming the file (`source`) and the missing key.
  const TensorMap& group(const std::string& group, const std::string& source = "") const;
  const torch::Tensor& tensor(const std::string& group, const std::string& name,
                              const std::string& source = "") const;
  int64_t int_value(const std::string& key, const std::string& source = "") const;
  double float_value(const std::string& key, const std::string& source = "") const;
  const std::vector<uint8_t>& blob(const std::string& key, const std::string& source = "") const;
  const std::string& text(const std::string& key, const std::string& source = "") const;
};

// Writes `content` to `path` atomically: <dir>/.<file>.tmp-<pid>, fsync, rename, fsync(dir).
// Tensors may live on any device (copied to the CPU). On failure nothing is left at `path` or at
// the temporary name, and trm::Error says why.
void write_checkpoint_file(const std::string& path, const CheckpointContent& content);

struct CheckpointReadOptions {
  // Only tensor groups whose path equals or starts with one of these prefixes + '/' are loaded
  // (e.g. {"model", "ema", "puzzle_emb"} for evaluation, {"carry/rank3"} for one rank).
  // Empty: every group. ints, floats, blobs and texts are always loaded.
  std::vector<std::string> groups;
  bool verify_checksum = true;  // reads every dataset once to check the CRC
};

// Reads a checkpoint. Throws trm::Error naming the file when it cannot be opened, has another
// format or version, or fails its checksum, with a hint (older checkpoint, --resume PATH, ...).
CheckpointContent read_checkpoint_file(const std::string& path,
                                       const CheckpointReadOptions& options = {});

// Empty string when `path` is a complete, undamaged checkpoint of a known version; otherwise
// the reason. Never throws for a damaged file.
std::string checkpoint_file_problem(const std::string& path);

}  // namespace trm
