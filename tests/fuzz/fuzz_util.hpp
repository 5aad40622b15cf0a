// Shared by the libFuzzer targets (tests/fuzz/fuzz_*.cpp): per-process scratch files for readers
// that take paths, and the rule every target enforces. A reader may accept an input or reject it
// with a trm::Error whose message is non-empty; any other exception type, or an empty message,
// is a finding and aborts so that libFuzzer keeps the input (docs/FUZZING.md).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <typeinfo>

#include "trm/common/error.hpp"

namespace trm_fuzz {

// A folder of this process's own under $TMPDIR (or /dev/shm), removed and recreated on first use
// so that files of a killed earlier run do not leak into this one.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::filesystem::path base = tmp != nullptr && *tmp != '\0' ? tmp : "/dev/shm";
    if (!std::filesystem::is_directory(base)) base = "/tmp";
    std::filesystem::path d = base / ("trm-fuzz-" + std::to_string(::getpid()));
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// Writes `size` bytes to <scratch>/<name> (replacing it) and returns the path.
inline std::string write_file(const std::string& name, const void* data, size_t size) {
  const std::filesystem::path path = scratch_dir() / name;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path.string();
}

[[noreturn]] inline void finding(const char* what, const char* detail) {
  std::fprintf(stderr, "FUZZ FINDING: %s: %s\n", what, detail);
  std::abort();
}

// Runs `read`; returns true when it accepted the input, false when it threw a trm::Error with a
// message. Aborts on any other exception (std::bad_alloc included: unbounded allocation).
template <typename Fn>
bool accepts(Fn&& read) {
  try {
    read();
    return true;
  } catch (const trm::Error& e) {
    if (e.message().empty()) finding("trm::Error with an empty message", e.what());
    return false;
  } catch (const std::exception& e) {
    finding(typeid(e).name(), e.what());
  } catch (...) {
    finding("exception of unknown type", "");
  }
}

}  // namespace trm_fuzz
