// Loading, overriding, validating and printing a TrainConfig.
// Invariants: every key in the TOML maps to exactly one field (unknown keys are errors, with a
// "did you mean"); overrides ("arch.L_cycles=4") are applied to the TOML tree before conversion,
// so they are validated like file contents; to_toml(load(x)) loads back to the same config.
#pragma once

#include <string>
#include <vector>

#include "trm/config/train_config.hpp"

namespace trm {

// Parses `path`, applies `overrides` (each "dotted.key=value"; the value is TOML syntax, or a
// bare string), converts and validates. Throws trm::Error naming the file and the key.
TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& overrides = {});

// The same from TOML text; `source_name` is used in messages in place of a path.
TrainConfig parse_train_config(const std::string& toml_text, const std::string& source_name,
                               const std::vector<std::string>& overrides = {});

// Range and combination checks that do not need the world size or the dataset (called by the
// loaders; exposed for code that builds a TrainConfig by hand).
void validate_train_config(const TrainConfig& config);

// Checks that need the launch: global batch divisible by the world size.
void validate_for_world(const TrainConfig& config, int world_size);

// The resolved config as TOML text (every key, defaults included); parse_train_config() of it
// gives back an equal config.
std::string to_toml(const TrainConfig& config);

// Field-wise equality (used by tests and by resume checks).
bool operator==(const ArchConfig& a, const ArchConfig& b);
bool operator==(const TrainConfig& a, const TrainConfig& b);
inline bool operator!=(const TrainConfig& a, const TrainConfig& b) { return !(a == b); }

}  // namespace trm
