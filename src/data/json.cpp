// Strict recursive-descent JSON parser and compact writer (see json.hpp). Positions are tracked
// as 1-based line:column (column counts bytes) so errors point into the user's file.
#include "trm/data/json.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "trm/common/error.hpp"

namespace trm {

JsonValue JsonValue::make_bool(bool b) {
  JsonValue v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}
JsonValue JsonValue::make_number(double d) {
  JsonValue v;
  v.type_ = Type::kNumber;
  v.number_ = d;
  return v;
}
JsonValue JsonValue::make_string(std::string s) {
  JsonValue v;
  v.type_ = Type::kString;
  v.string_ = std::move(s);
  return v;
}
JsonValue JsonValue::make_array(Array a) {
  JsonValue v;
  v.type_ = Type::kArray;
  v.array_ = std::make_shared<Array>(std::move(a));
  return v;
}
JsonValue JsonValue::make_object(Object o) {
  JsonValue v;
  v.type_ = Type::kObject;
  v.object_ = std::make_shared<Object>(std::move(o));
  return v;
}

namespace {
const char* type_name(JsonValue::Type t) {
  switch (t) {
    case JsonValue::Type::kNull: return "null";
    case JsonValue::Type::kBool: return "a boolean";
    case JsonValue::Type::kNumber: return "a number";
    case JsonValue::Type::kString: return "a string";
    case JsonValue::Type::kArray: return "an array";
    case JsonValue::Type::kObject: return "an object";
  }
  return "?";
}
}  // namespace

#define TRM_JSON_EXPECT(t, wanted)                                                        \
  TRM_CHECK(type_ == (t),                                                                 \
            "JSON value at " << line_ << ":" << col_ << " is " << type_name(type_)        \
                             << ", expected " << wanted,                                  \
            "check the file's structure")

bool JsonValue::as_bool() const {
  TRM_JSON_EXPECT(Type::kBool, "a boolean");
  return bool_;
}
double JsonValue::as_number() const {
  TRM_JSON_EXPECT(Type::kNumber, "a number");
  return number_;
}
const std::string& JsonValue::as_string() const {
  TRM_JSON_EXPECT(Type::kString, "a string");
  return string_;
}
const JsonValue::Array& JsonValue::as_array() const {
  TRM_JSON_EXPECT(Type::kArray, "an array");
  return *array_;
}
JsonValue::Array& JsonValue::as_array() {
  TRM_JSON_EXPECT(Type::kArray, "an array");
  return *array_;
}
const JsonValue::Object& JsonValue::as_object() const {
  TRM_JSON_EXPECT(Type::kObject, "an object");
  return *object_;
}
JsonValue::Object& JsonValue::as_object() {
  TRM_JSON_EXPECT(Type::kObject, "an object");
  return *object_;
}
const JsonValue* JsonValue::find(const std::string& key) const {
  for (const auto& kv : as_object()) {
    if (kv.first == key) return &kv.second;
  }
  return nullptr;
}

class JsonParser {
 public:
  JsonParser(const std::string& text, const std::string& source) : s_(text), source_(source) {}

  JsonValue parse_document() {
    skip_ws();
    JsonValue v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected data after the JSON value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 512;

  [[noreturn]] void fail(const std::string& what) const {
    TRM_FAIL(source_ << ":" << line_ << ":" << col_ << ": invalid JSON: " << what,
             "fix the file (it must be strict JSON: no comments, no trailing commas)");
  }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return s_[pos_]; }
  void advance() {
    if (s_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }
  void skip_ws() {
    while (!at_end()) {
      const char c = peek();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        advance();
      } else {
        break;
      }
    }
  }
  void expect_literal(const char* lit) {
    for (const char* p = lit; *p; ++p) {
      if (at_end() || peek() != *p) fail(std::string("expected '") + lit + "'");
      advance();
    }
  }
  JsonValue located(JsonValue v, int line, int col) {
    v.line_ = line;
    v.col_ = col;
    return v;
  }

  JsonValue parse_value(int depth) {
    if (depth > kMaxDepth) fail("nesting deeper than 512 levels");
    if (at_end()) fail("unexpected end of input, expected a value");
    const int line = line_, col = col_;
    switch (peek()) {
      case '{': return located(parse_object(depth), line, col);
      case '[': return located(parse_array(depth), line, col);
      case '"': return located(JsonValue::make_string(parse_string()), line, col);
      case 't': expect_literal("true"); return located(JsonValue::make_bool(true), line, col);
      case 'f': expect_literal("false"); return located(JsonValue::make_bool(false), line, col);
      case 'n': expect_literal("null"); return located(JsonValue(), line, col);
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) {
          return located(JsonValue::make_number(parse_number()), line, col);
        }
        fail(std::string("unexpected character '") + peek() + "'");
    }
  }

  JsonValue parse_array(int depth) {
    advance();  // [
    JsonValue::Array items;
    skip_ws();
    if (!at_end() && peek() == ']') {
      advance();
      return JsonValue::make_array(std::move(items));
    }
    while (true) {
      skip_ws();
      items.push_back(parse_value(depth + 1));
      skip_ws();
      if (at_end()) fail("unexpected end of input inside an array");
      if (peek() == ',') {
        advance();
        skip_ws();
        if (!at_end() && peek() == ']') fail("trailing comma in array");
        continue;
      }
      if (peek() == ']') {
        advance();
        return JsonValue::make_array(std::move(items));
      }
      fail("expected ',' or ']' in array");
    }
  }

  JsonValue parse_object(int depth) {
    advance();  // {
    JsonValue::Object members;
    skip_ws();
    if (!at_end() && peek() == '}') {
      advance();
      return JsonValue::make_object(std::move(members));
    }
    while (true) {
      skip_ws();
      if (at_end() || peek() != '"') fail("expected a string key in object");
      std::string key = parse_string();
      skip_ws();
      if (at_end() || peek() != ':') fail("expected ':' after object key");
      advance();
      skip_ws();
      JsonValue value = parse_value(depth + 1);
      members.emplace_back(std::move(key), std::move(value));
      skip_ws();
      if (at_end()) fail("unexpected end of input inside an object");
      if (peek() == ',') {
        advance();
        skip_ws();
        if (!at_end() && peek() == '}') fail("trailing comma in object");
        continue;
      }
      if (peek() == '}') {
        advance();
        return JsonValue::make_object(std::move(members));
      }
      fail("expected ',' or '}' in object");
    }
  }

  unsigned parse_hex4() {
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      if (at_end()) fail("unexpected end of input in \\u escape");
      const char c = peek();
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else fail("bad hex digit in \\u escape");
      advance();
    }
    return v;
  }
  static void append_utf8(std::string* out, unsigned cp) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::string parse_string() {
    advance();  // opening quote
    std::string out;
    while (true) {
      if (at_end()) fail("unterminated string");
      const char c = peek();
      if (c == '"') {
        advance();
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("control character inside a string");
      if (c != '\\') {
        out.push_back(c);
        advance();
        continue;
      }
      advance();
      if (at_end()) fail("unterminated escape");
      const char e = peek();
      advance();
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          unsigned cp = parse_hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {
            if (at_end() || peek() != '\\') fail("lone high surrogate in \\u escape");
            advance();
            if (at_end() || peek() != 'u') fail("lone high surrogate in \\u escape");
            advance();
            const unsigned lo = parse_hex4();
            if (lo < 0xDC00 || lo >= 0xE000) fail("bad low surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            fail("lone low surrogate in \\u escape");
          }
          append_utf8(&out, cp);
          break;
        }
        default: fail(std::string("bad escape '\\") + e + "'");
      }
    }
  }

  double parse_number() {
    const size_t start = pos_;
    if (peek() == '-') advance();
    if (at_end()) fail("bad number");
    if (peek() == '0') {
      advance();
      if (!at_end() && peek() >= '0' && peek() <= '9') fail("leading zero in number");
    } else if (peek() >= '1' && peek() <= '9') {
      while (!at_end() && peek() >= '0' && peek() <= '9') advance();
    } else {
      fail("bad number");
    }
    if (!at_end() && peek() == '.') {
      advance();
      if (at_end() || !(peek() >= '0' && peek() <= '9')) fail("expected digits after '.'");
      while (!at_end() && peek() >= '0' && peek() <= '9') advance();
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      advance();
      if (!at_end() && (peek() == '+' || peek() == '-')) advance();
      if (at_end() || !(peek() >= '0' && peek() <= '9')) fail("expected digits in exponent");
      while (!at_end() && peek() >= '0' && peek() <= '9') advance();
    }
    // Fast path for the small non-negative integers that make up ARC grids.
    const size_t len = pos_ - start;
    if (len <= 9) {
      bool digits = true;
      int64_t v = 0;
      for (size_t i = start; i < pos_; ++i) {
        const char c = s_[i];
        if (c < '0' || c > '9') {
          digits = false;
          break;
        }
        v = v * 10 + (c - '0');
      }
      if (digits) return static_cast<double>(v);
    }
    const std::string token = s_.substr(start, len);
    return std::strtod(token.c_str(), nullptr);
  }

  const std::string& s_;
  const std::string& source_;
  size_t pos_ = 0;
  int line_ = 1;
  int col_ = 1;
};

JsonValue parse_json(const std::string& text, const std::string& source_name) {
  return JsonParser(text, source_name).parse_document();
}

JsonValue parse_json_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  TRM_CHECK(f.good(), "cannot open " << path, "check the path");
  std::ostringstream ss;
  ss << f.rdbuf();
  TRM_CHECK(!f.bad(), "error reading " << path, "check the file");
  return parse_json(ss.str(), path);
}

void append_json_string(std::string* out, const std::string& s) {
  out->push_back('"');
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          *out += buf;
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

namespace {
void write_value(std::string* out, const JsonValue& v) {
  switch (v.type()) {
    case JsonValue::Type::kNull: *out += "null"; break;
    case JsonValue::Type::kBool: *out += v.as_bool() ? "true" : "false"; break;
    case JsonValue::Type::kNumber: {
      const double d = v.as_number();
      TRM_CHECK(std::isfinite(d), "cannot write a non-finite number as JSON", "");
      if (d == std::floor(d) && std::fabs(d) < 9e15) {
        *out += std::to_string(static_cast<int64_t>(d));
      } else {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%.17g", d);
        *out += buf;
      }
      break;
    }
    case JsonValue::Type::kString: append_json_string(out, v.as_string()); break;
    case JsonValue::Type::kArray: {
      out->push_back('[');
      bool first = true;
      for (const auto& item : v.as_array()) {
        if (!first) out->push_back(',');
        first = false;
        write_value(out, item);
      }
      out->push_back(']');
      break;
    }
    case JsonValue::Type::kObject: {
      out->push_back('{');
      bool first = true;
      for (const auto& kv : v.as_object()) {
        if (!first) out->push_back(',');
        first = false;
        append_json_string(out, kv.first);
        out->push_back(':');
        write_value(out, kv.second);
      }
      out->push_back('}');
      break;
    }
  }
}
}  // namespace

std::string to_json(const JsonValue& value) {
  std::string out;
  write_value(&out, value);
  return out;
}

}  // namespace trm
