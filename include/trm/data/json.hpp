// A small strict JSON reader/writer (RFC 8259) for ARC task files and the dataset's side files.
// Parsing rejects trailing commas, comments, NaN, leading zeros, bad escapes and trailing data,
// and reports "<source>:<line>:<col>: <what>". Objects keep their member order.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace trm {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<JsonValue>;
  using Object = std::vector<std::pair<std::string, JsonValue>>;  // file order

  JsonValue() = default;
  static JsonValue make_bool(bool b);
  static JsonValue make_number(double d);
  static JsonValue make_string(std::string s);
  static JsonValue make_array(Array a = {});
  static JsonValue make_object(Object o = {});

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  // Accessors throw trm::Error when the type differs.
  bool as_bool() const;
  double as_number() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();
  // Object member lookup: nullptr when absent.
  const JsonValue* find(const std::string& key) const;

  // Where the value started in its source (1-based; 0 for values built in code).
  int line() const { return line_; }
  int col() const { return col_; }

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0.0;
  std::string string_;
  std::shared_ptr<Array> array_;
  std::shared_ptr<Object> object_;
  int line_ = 0;
  int col_ = 0;
};

// source_name is used in error messages (usually the file path).
JsonValue parse_json(const std::string& text, const std::string& source_name);
JsonValue parse_json_file(const std::string& path);
// Compact serialisation (no spaces); integers print without a decimal point.
std::string to_json(const JsonValue& value);
void append_json_string(std::string* out, const std::string& s);

}  // namespace trm
