// The message of the trm::Error that parsing a config text with overrides throws (the config
// tests' check that bad input is refused with a message naming the key).
#pragma once

#include <string>
#include <vector>

#include "trm/common/error.hpp"
#include "trm/config/config_loader.hpp"

namespace trm {

// The message of the trm::Error thrown by parsing `text` with `overrides`, or "" if none.
inline std::string error_of(const std::string& text,
                            const std::vector<std::string>& overrides = {}) {
  try {
    parse_train_config(text, "cfg.toml", overrides);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace trm
