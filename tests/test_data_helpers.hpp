// Shared helpers of the data tests: a self-removing temporary directory, file writing, running
// build/bin/trm-convert and capturing its output, and a tiny in-memory dataset writer.
#pragma once

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>

namespace trm {
namespace testing {

class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = (std::filesystem::temp_directory_path() /
             ("trm_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++)))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  static int& counter() {
    static int c = 0;
    return c;
  }
  std::string path_;
};

inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary);
  f << content;
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs build/bin/trm-convert with the given arguments (shell-quoted by the caller).
inline CommandResult run_convert(const std::string& args) {
  const std::string cmd = std::string(TRM_BINARY_DIR) + "/bin/trm-convert " + args + " --quiet 2>&1";
  CommandResult r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline bool convert_binary_exists() {
  return std::filesystem::exists(std::string(TRM_BINARY_DIR) + "/bin/trm-convert");
}

}  // namespace testing
}  // namespace trm
