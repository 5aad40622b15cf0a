// trm::Error and the TRM_CHECK family: every failure the library reports carries what went wrong,
// the context (file, key, puzzle, rank) and a hint on what to do next. Library code only throws;
// main() alone turns an exception into an exit code (see trm/common/exit_codes.hpp).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace trm {

class Error : public std::runtime_error {
 public:
  Error(const std::string& message, const std::string& hint, const char* src_file, int src_line);

  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }

 private:
  std::string message_;
  std::string hint_;
};

[[noreturn]] void throw_error(const std::string& message, const std::string& hint,
                              const char* src_file, int src_line);

}  // namespace trm

// TRM_FAIL(msg_stream_expr, hint): throw trm::Error built from a stream expression.
//   TRM_FAIL("shard " << path << " has seq_len " << n, "rebuild it with trm-convert");
#define TRM_FAIL(msg, hint)                                              \
  do {                                                                   \
    std::ostringstream trm_fail_os_;                                     \
    trm_fail_os_ << msg;                                                 \
    ::trm::throw_error(trm_fail_os_.str(), (hint), __FILE__, __LINE__);  \
  } while (0)

// TRM_CHECK(cond, msg_stream_expr, hint): TRM_FAIL unless cond holds.
#define TRM_CHECK(cond, msg, hint) \
  do {                             \
    if (!(cond)) TRM_FAIL(msg, hint); \
  } while (0)
