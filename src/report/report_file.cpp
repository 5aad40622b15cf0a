// write_report_file (see report_file.hpp).
#include "trm/report/report_file.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "trm/common/error.hpp"

namespace trm {

void write_report_file(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(dir, ec);
  TRM_CHECK(!ec, "cannot create the folder " << dir.string() << ": " << ec.message(),
            "check the --output path and its permissions");
  const fs::path tmp =
      dir / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      out.close();
      fs::remove(tmp, ec);
      TRM_FAIL("cannot write " << tmp.string(),
               "check free space and permissions of " + dir.string());
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    TRM_FAIL("cannot rename " << tmp.string() << " to " << path << ": " << ec.message(),
             "check the --output path and its permissions");
  }
}

}  // namespace trm
