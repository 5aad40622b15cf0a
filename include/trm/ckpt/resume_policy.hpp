// What may change between a checkpoint and the run that resumes it. The resolved config stored
// in /config is compared key by key with the new one: keys that change the model's tensors or
// its computation (every arch.* key), global_batch_size (the ACT carry and the sampler position
// are per global batch) and the dataset shape are refused with one message naming them all;
// everything else (schedule, lr, epochs, eval_interval, paths, ...) is allowed and returned so
// the coordinator can log it.
#pragma once

#include <string>
#include <vector>

#include "trm/ckpt/checkpoint_file.hpp"
#include "trm/config/arch_config.hpp"

namespace trm {

struct ConfigChange {
  std::string key;      // dotted ("arch.hidden_size", "lr")
  std::string saved;    // TOML value in the checkpoint ("<absent>" when missing)
  std::string current;  // TOML value now
};

// Every key whose value differs between two TOML texts (as written by to_toml), sorted.
std::vector<ConfigChange> diff_config_toml(const std::string& saved_toml,
                                           const std::string& current_toml);

// True for keys whose change makes a checkpoint unusable for --resume (arch.*,
// global_batch_size).
bool is_resume_locked_key(const std::string& key);

// Throws trm::Error naming `checkpoint_path` and every refused key (saved -> current) with the
// hint to use --init-from for a new model shape. Returns the allowed changes.
std::vector<ConfigChange> check_resume_config(const std::string& saved_toml,
                                              const std::string& current_toml,
                                              const std::string& checkpoint_path);

// DataShape as stored in /state (data.seq_len, data.vocab_size, data.num_puzzle_identifiers).
void add_data_shape_to_checkpoint(CheckpointContent& content, const DataShape& shape);
// Throws trm::Error when the checkpoint's data shape differs from `current`.
void check_resume_data_shape(const CheckpointContent& content, const DataShape& current,
                             const std::string& checkpoint_path);

// One line per change: "resume: lr changed 0.0001 -> 0.0002 (allowed)".
std::string describe_changes(const std::vector<ConfigChange>& changes);

}  // namespace trm
