// The strict JSON reader: accepts RFC 8259 documents (escapes, surrogates, numbers, nesting,
// member order kept), rejects what Python's json module rejects, and reports line:column.
#include <gtest/gtest.h>

#include "trm/common/error.hpp"
#include "trm/data/json.hpp"

namespace trm {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_json(text, "doc.json");
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

TEST(Json, ParsesValuesAndKeepsMemberOrder) {
  const JsonValue v = parse_json(R"( {"b": [1, -2.5e1, 0.25, true, false, null], "a": {"x": "y\n\u00e9\ud83d\ude00"}} )", "t");
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.as_object().size(), 2u);
  EXPECT_EQ(v.as_object()[0].first, "b");
  EXPECT_EQ(v.as_object()[1].first, "a");
  const auto& arr = v.find("b")->as_array();
  ASSERT_EQ(arr.size(), 6u);
  EXPECT_EQ(arr[0].as_number(), 1);
  EXPECT_EQ(arr[1].as_number(), -25);
  EXPECT_EQ(arr[2].as_number(), 0.25);
  EXPECT_TRUE(arr[3].as_bool());
  EXPECT_FALSE(arr[4].as_bool());
  EXPECT_TRUE(arr[5].is_null());
  EXPECT_EQ(v.find("a")->find("x")->as_string(), "y\n\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(v.find("missing"), nullptr);
}

TEST(Json, RoundTripsThroughWriter) {
  const std::string text = R"({"k":[[0,1],[2,3]],"s":"a\"b\\c\u0001","f":0.5,"n":null})";
  const JsonValue v = parse_json(text, "t");
  EXPECT_EQ(to_json(v), text);
}

TEST(Json, RejectsNonStrictInputWithLineAndColumn) {
  EXPECT_NE(error_of("[1, 2,]").find("doc.json:1:7: invalid JSON: trailing comma"), std::string::npos)
      << error_of("[1, 2,]");
  EXPECT_NE(error_of("{\n  \"a\": 1,\n  \"b\" 2\n}").find("doc.json:3:7"), std::string::npos);
  EXPECT_NE(error_of("[01]").find("leading zero"), std::string::npos);
  EXPECT_NE(error_of("[1] x").find("unexpected data after"), std::string::npos);
  EXPECT_NE(error_of("// c\n[1]").find("doc.json:1:1"), std::string::npos);
  EXPECT_NE(error_of("[NaN]").find("unexpected character 'N'"), std::string::npos);
  EXPECT_NE(error_of("[\"a\\x\"]").find("bad escape"), std::string::npos);
  EXPECT_NE(error_of("[\"abc").find("unterminated string"), std::string::npos);
  EXPECT_NE(error_of("[1.]").find("expected digits after '.'"), std::string::npos);
  EXPECT_NE(error_of("").find("unexpected end of input"), std::string::npos);
  EXPECT_NE(error_of("[\"\\ud800\"]").find("surrogate"), std::string::npos);
}

TEST(Json, TypeMismatchNamesPosition) {
  const JsonValue v = parse_json("[1,\n \"x\"]", "t");
  try {
    v.as_array()[1].as_number();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("2:2 is a string, expected a number"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace trm
