// trm::Error: the message shown to users is "<message>\n  hint: <hint>\n  (at <src>:<line>)".
#include "trm/common/error.hpp"

#include <cstring>

namespace trm {
namespace {

std::string compose(const std::string& message, const std::string& hint, const char* src_file,
                    int src_line) {
  std::string out = message;
  if (!hint.empty()) out += "\n  hint: " + hint;
  // Source paths are absolute at build time; keep them short from "src/" or "include/" on.
  const char* shown = src_file;
  for (const char* marker : {"/src/", "/include/"}) {
    if (const char* p = std::strstr(src_file, marker)) {
      shown = p + 1;
      break;
    }
  }
  out += "\n  (at " + std::string(shown) + ":" + std::to_string(src_line) + ")";
  return out;
}

}  // namespace

Error::Error(const std::string& message, const std::string& hint, const char* src_file,
             int src_line)
    : std::runtime_error(compose(message, hint, src_file, src_line)),
      message_(message),
      hint_(hint) {}

void throw_error(const std::string& message, const std::string& hint, const char* src_file,
                 int src_line) {
  throw Error(message, hint, src_file, src_line);
}

}  // namespace trm
