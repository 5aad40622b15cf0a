// write_text_file_atomic (see output_files.hpp): <dir>/.<name>.tmp-<pid>, fsync, rename,
// fsync(dir). POSIX calls, each checked.
#include "trm/eval/output_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "trm/common/error.hpp"

namespace trm {

void write_text_file_atomic(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(dir, ec);
  TRM_CHECK(!ec, "cannot create directory " << dir.string() << ": " << ec.message(),
            "check the output path and its permissions");
  const fs::path tmp =
      dir / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  TRM_CHECK(fd >= 0, "cannot create " << tmp.string() << ": " << std::strerror(errno),
            "check the output directory and its permissions");
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      TRM_FAIL("cannot write " << tmp.string() << ": " << std::strerror(err),
               "check free disk space");
    }
    written += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const int sync_err = errno;
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed) {
    const int err = synced ? errno : sync_err;
    ::unlink(tmp.c_str());
    TRM_FAIL("cannot flush " << tmp.string() << ": " << std::strerror(err),
             "check free disk space");
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    TRM_FAIL("cannot rename " << tmp.string() << " to " << path << ": " << std::strerror(err),
             "check the output directory and its permissions");
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {  // best effort: some file systems refuse to sync a directory
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace trm
