#include "util/json.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace claribi;

namespace {

std::string nested(unsigned depth, const char* open, const char* close) {
  std::string s;
  for (unsigned i = 0; i < depth; ++i) s += open;
  s += "1";
  for (unsigned i = 0; i < depth; ++i) s += close;
  return s;
}

}  // namespace

TEST_CASE("nesting up to the limit parses, one level more is refused") {
  json::Document doc;
  REQUIRE(json::parse(doc, nested(json::k_max_depth, "[", "]")));
  CHECK(doc.IsArray());
  CHECK(json::to_string(doc).size() == 2 * json::k_max_depth + 1);

  auto deeper = json::parse(doc, nested(json::k_max_depth + 1, "{\"a\":", "}"));
  REQUIRE_FALSE(deeper);
  CHECK(deeper.error().message == "nesting deeper than 512 levels");
  CHECK(doc.IsNull());
}

TEST_CASE("a megabyte of open brackets is refused without recursion") {
  json::Document doc;
  auto r = json::parse(doc, std::string(1 << 20, '['));
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("deeper than") != std::string::npos);
  CHECK(r.error().offset <= json::k_max_depth + 1);
}

TEST_CASE("syntax errors keep RapidJSON's wording and offset") {
  json::Document doc;
  auto r = json::parse(doc, R"({"a": tru})");
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "Invalid value.");
  CHECK(r.error().offset >= 6);  // the iterative parser stops after the bad token
  CHECK(r.error().offset <= 9);
  CHECK_FALSE(json::parse(doc, R"({"a":1} {"b":2})"));
  CHECK_FALSE(json::parse(doc, ""));
}

TEST_CASE("the text need not end in NUL, and a NUL inside is an error") {
  std::string text = R"({"a":"b"})"
                     "garbage";
  json::Document doc;
  REQUIRE(json::parse(doc, std::string_view(text).substr(0, 9)));
  CHECK(json::string_or_empty(json::member(doc, "a")) == "b");
  CHECK_FALSE(json::parse(doc, std::string_view("{}\0{}", 5)));
}

TEST_CASE("a document parsed again holds only the second value") {
  json::Document doc;
  REQUIRE(json::parse(doc, R"({"x":[1,2,3]})"));
  REQUIRE(json::parse(doc, R"("s")"));
  CHECK(doc.IsString());
  CHECK(json::parse_or_null("{bad").IsNull());
}

// Found by fuzz_json: 1.8e308 parsed as infinity, which the writer cannot write, so every
// re-serialization of such a document was cut short.
TEST_CASE("a number beyond the double range is refused") {
  json::Document doc;
  auto r = json::parse(doc, R"({"a":[1.8e308]})");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("range") != std::string::npos);
  CHECK_FALSE(json::parse(doc, "-1.8e308"));
  REQUIRE(json::parse(doc, "1.7e308"));
  CHECK(json::to_string(doc) == "1.7e308");
}

TEST_CASE("numbers become bounded integers without undefined behaviour") {
  json::Document doc;
  REQUIRE(json::parse(doc, R"([1e19,-1e19,42.9,"7",null])"));
  CHECK(json::clamped_int(&doc[0], 0, 1000, -1) == 1000);
  CHECK(json::clamped_int(&doc[1], 0, 1000, -1) == 0);
  CHECK(json::clamped_int(&doc[2], 0, 1000, -1) == 42);
  CHECK(json::clamped_int(&doc[3], 0, 1000, -1) == -1);
  CHECK(json::clamped_int(&doc[4], 0, 1000, -1) == -1);
  CHECK(json::clamped_int(nullptr, 0, 1000, -1) == -1);
}

TEST_CASE("a trimming parse leaves out only the strings longer than its bound") {
  const std::string text =
      "\xEF\xBB\xBF"
      R"({"s":"abcd","long":"abcde","esc":"a\nb\u00e9\ud83d\ude00",)"
      R"("abcdefgh":[1,-2.5,true,null],"n":{"k":"12345678"}})";
  json::Document whole;
  REQUIRE(json::parse(whole, text));
  json::Document doc;
  bool trimmed = false;
  REQUIRE(json::parse(doc, text, 4, trimmed));
  CHECK(trimmed);
  CHECK(json::string_or_empty(json::member(doc, "s")) == "abcd");
  CHECK(json::member(doc, "long")->GetString() == json::k_trimmed);
  CHECK(json::member(doc, "long")->GetStringLength() == 0);
  // Escapes count as what they decode to: "a\nbé😀" is 9 bytes.
  CHECK(json::member(doc, "esc")->GetString() == json::k_trimmed);
  REQUIRE(json::parse(doc, text, 8, trimmed));
  CHECK(trimmed);
  CHECK(json::member(doc, "esc")->GetString() == json::k_trimmed);
  REQUIRE(json::parse(doc, text, 9, trimmed));
  CHECK(json::string_or_empty(json::member(doc, "esc")) == "a\nb\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(json::string_or_empty(json::member(doc, "long")) == "abcde");
  CHECK(json::to_string(*json::member(doc, "abcdefgh")) == "[1,-2.5,true,null]");
  CHECK(json::string_or_empty(json::member(doc["n"], "k")) == "12345678");
  CHECK(trimmed == false);
  CHECK(doc == whole);

  // A key past the bound is left out too; the structure stays.
  REQUIRE(json::parse(doc, text, 7, trimmed));
  CHECK(trimmed);
  CHECK(doc.MemberCount() == whole.MemberCount());
  CHECK(json::member(doc["n"], "k")->GetString() == json::k_trimmed);
  CHECK(json::string_or_empty(json::member(doc, "s")) == "abcd");
}

TEST_CASE("a trimming parse refuses what a whole parse refuses, at the same byte") {
  for (std::string bad :
       {std::string(R"({"a": tru})"), std::string(R"({"a":1} {"b":2})"), std::string(),
        std::string("{}\0{}", 5), std::string(R"(["abcdefgh", 1.8e308])"),
        std::string(R"(["abcdefghij)"), std::string(R"(["ab\x"])"), std::string("\xBF[1]x"),
        nested(json::k_max_depth + 1, "[", "]")}) {
    json::Document whole;
    json::Document doc;
    bool trimmed = true;
    auto expected = json::parse(whole, bad);
    auto got = json::parse(doc, bad, 2, trimmed);
    REQUIRE_FALSE(expected);
    REQUIRE_FALSE(got);
    CHECK(got.error().message == expected.error().message);
    CHECK(got.error().offset == expected.error().offset);
    CHECK(doc.IsNull());
    CHECK_FALSE(trimmed);
  }
}

TEST_CASE("a long string is never copied whole by a trimming parse") {
  // 8 MiB of text in one string: the parse keeps nothing of it but the bound's scratch.
  std::string text = "{\"blob\":\"" + std::string(8 << 20, 'x') + "\",\"id\":7}";
  json::Document doc;
  bool trimmed = false;
  REQUIRE(json::parse(doc, text, 64 << 10, trimmed));
  CHECK(trimmed);
  CHECK(json::member(doc, "id")->GetInt() == 7);
  CHECK(doc.GetAllocator().Capacity() < (1u << 20));
}
