// Private: line-by-line reader for the reference's 4-column CSV files (source,question,answer,
// rating). Fields may be double-quoted; errors carry "<file>:<line>".
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include "trm/common/error.hpp"

namespace trm {

class CsvRows {
 public:
  CsvRows(const std::string& path, const std::vector<std::string>& header) : path_(path), in_(path) {
    TRM_CHECK(in_.good(), "cannot open " << path, "check the path");
    std::vector<std::string> got;
    TRM_CHECK(next(&got), path << " is empty (expected a header line)", "");
    std::string want_joined, got_joined;
    for (size_t i = 0; i < header.size(); ++i) want_joined += (i ? "," : "") + header[i];
    for (size_t i = 0; i < got.size(); ++i) got_joined += (i ? "," : "") + got[i];
    TRM_CHECK(got == header, path << ":1: header is '" << got_joined << "', expected '" << want_joined << "'",
              "use the reference's CSV format");
  }

  // Next data row; false at end of file. Throws on a wrong number of fields.
  bool next(std::vector<std::string>* fields) {
    std::string line;
    while (std::getline(in_, line)) {
      ++line_;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      split(line, fields);
      return true;
    }
    return false;
  }
  int line() const { return line_; }
  std::string where() const { return path_ + ":" + std::to_string(line_); }

 private:
  void split(const std::string& line, std::vector<std::string>* out) {
    out->clear();
    std::string cur;
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted) {
        if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
          cur.push_back('"');
          ++i;
        } else if (c == '"') {
          quoted = false;
        } else {
          cur.push_back(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        out->push_back(cur);
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
    TRM_CHECK(!quoted, where() << ": unterminated quoted field", "");
    out->push_back(cur);
  }

  std::string path_;
  std::ifstream in_;
  int line_ = 0;
};

}  // namespace trm
