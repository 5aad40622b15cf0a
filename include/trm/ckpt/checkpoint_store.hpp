// CheckpointStore: the folder of checkpoints of one run (config checkpoint_path). Files are
// <dir>/step_<step, 9 digits>.h5; best.h5 is a hard link (or copy) of the checkpoint with the best
// evaluation metric so far. Only the coordinator (rank 0) writes. Invariants: after save() the
// newest `keep_last` step files and the best one exist, every other step file is deleted; a
// damaged file is never chosen by find_latest_valid_checkpoint() (it warns and takes the one
// before).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "trm/ckpt/checkpoint_file.hpp"

namespace trm {

class Communicator;

struct CheckpointStoreOptions {
  std::string dir;
  int64_t keep_last = 3;          // >= 1: step files kept besides the best one
  bool higher_is_better = true;   // for the evaluation metric that picks best.h5
};

class CheckpointStore {
 public:
  explicit CheckpointStore(CheckpointStoreOptions options);

  // Writes step_<step>.h5 (adding /state/step and, when given, /state/eval_metric), points
  // best.h5 at it when `eval_metric` beats the best so far, then prunes old step files.
  // Returns the path written. Throws trm::Error on I/O failure (earlier files stay intact).
  std::string save(const CheckpointContent& content, int64_t step,
                   std::optional<double> eval_metric = std::nullopt);

  const CheckpointStoreOptions& options() const { return options_; }
  std::string best_path() const;

 private:
  CheckpointStoreOptions options_;
  std::optional<double> best_metric_;  // read lazily from best.h5
  bool best_loaded_ = false;
};

// "step_000001234.h5"
std::string checkpoint_file_name(int64_t step);

// The step files of `dir` with their steps, newest first (names that do not parse are ignored).
struct CheckpointEntry {
  std::string path;
  int64_t step = 0;
};
std::vector<CheckpointEntry> list_checkpoints(const std::string& dir);

// The newest checkpoint of `dir` that opens and passes its checksum; each damaged newer one is
// reported on `warnings` ("skipping <path>: <reason>"). nullopt when there is none (or no dir).
std::optional<std::string> find_latest_valid_checkpoint(const std::string& dir,
                                                        std::ostream& warnings);

// Interprets --resume: "" -> nullopt (fresh run); "auto" -> find_latest_valid_checkpoint(dir)
// (nullopt and a note when there is none: first start of a requeued job); a directory -> its
// latest valid checkpoint (error when none); a file -> that file, which must be valid (error
// naming the problem otherwise).
std::optional<std::string> resolve_resume_path(const std::string& resume_arg,
                                               const std::string& checkpoint_dir,
                                               std::ostream& log);

// Collective: rank 0 runs resolve_resume_path (writing to `log`) and every rank returns the same
// path, or throws the same trm::Error.
std::optional<std::string> agree_resume_path(const std::string& resume_arg,
                                             const std::string& checkpoint_dir,
                                             Communicator& comm, std::ostream& log);

}  // namespace trm
