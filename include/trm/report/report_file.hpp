// Writing the report so that a reader (a browser refreshing it while a run goes on) never sees a
// half-written page: the text goes to <dir>/.<name>.tmp-<pid> and is renamed over the target.
#pragma once

#include <string>

namespace trm {

// Creates missing parent folders. Throws trm::Error naming the path (and leaves no temporary).
void write_report_file(const std::string& path, const std::string& text);

}  // namespace trm
