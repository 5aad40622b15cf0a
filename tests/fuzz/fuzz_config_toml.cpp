// libFuzzer target: the TOML config loader with overrides. The input is TOML text, then (after
// the first 0x1e byte) one override "dotted.key=value" per line. An accepted config must print
// back (to_toml) to text that loads to an equal config, the loader's documented invariant.
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "trm/config/config_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t sep = input.find('\x1e');
  const std::string toml = input.substr(0, sep);
  std::vector<std::string> overrides;
  if (sep != std::string::npos) {
    std::istringstream lines(input.substr(sep + 1));
    for (std::string line; std::getline(lines, line);) overrides.push_back(line);
  }
  trm::TrainConfig config;
  if (!trm_fuzz::accepts([&] { config = trm::parse_train_config(toml, "fuzz.toml", overrides); })) {
    return 0;
  }
  const std::string printed = trm::to_toml(config);
  trm::TrainConfig again;
  if (!trm_fuzz::accepts([&] { again = trm::parse_train_config(printed, "printed.toml"); })) {
    trm_fuzz::finding("to_toml of an accepted config does not load", printed.c_str());
  }
  if (again != config) trm_fuzz::finding("to_toml does not round-trip", printed.c_str());
  return 0;
}
