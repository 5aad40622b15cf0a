// Writing evaluation outputs (submission.json, metrics, trm-solve answers) so that a reader never
// sees a half-written file: the text goes to a temporary file in the same directory, is flushed
// to disk, and is renamed over the final name (then the directory is synced).
#pragma once

#include <string>

namespace trm {

// Creates the parent directories when missing. Throws trm::Error naming the path on failure and
// leaves neither the file nor the temporary behind.
void write_text_file_atomic(const std::string& path, const std::string& text);

}  // namespace trm
