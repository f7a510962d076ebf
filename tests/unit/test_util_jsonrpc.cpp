#include "util/jsonrpc.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using namespace claribi;
using jsonrpc::Kind;

TEST_CASE("messages are classified by the members present") {
  auto r = jsonrpc::parse(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  REQUIRE(r);
  CHECK(r->kind == Kind::request);
  CHECK(r->id == "1");
  CHECK(r->method == "tools/list");

  auto n = jsonrpc::parse(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  REQUIRE(n);
  CHECK(n->kind == Kind::notification);
  CHECK(n->id.empty());

  auto s = jsonrpc::parse(R"({"jsonrpc":"2.0","id":"abc","result":{}})");
  REQUIRE(s);
  CHECK(s->kind == Kind::response);
  CHECK(s->id == "\"abc\"");

  auto e = jsonrpc::parse(R"({"jsonrpc":"2.0","id":7,"error":{"code":-1,"message":"x"}})");
  REQUIRE(e);
  CHECK(e->kind == Kind::response);
}

TEST_CASE("string and number ids stay distinct and large ids keep their digits") {
  auto a = jsonrpc::parse(R"({"jsonrpc":"2.0","id":"1","method":"ping"})");
  auto b = jsonrpc::parse(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
  auto c = jsonrpc::parse(R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"})");
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(a->id != b->id);
  CHECK(c->id == "18446744073709551615");
}

TEST_CASE("invalid input is reported with the right code and id") {
  auto garbage = jsonrpc::parse("{not json");
  REQUIRE_FALSE(garbage);
  CHECK(garbage.error().code == jsonrpc::code::parse_error);
  CHECK(garbage.error().id.empty());

  auto no_version = jsonrpc::parse(R"({"id":3,"method":"ping"})");
  REQUIRE_FALSE(no_version);
  CHECK(no_version.error().code == jsonrpc::code::invalid_request);
  CHECK(no_version.error().id == "3");

  CHECK_FALSE(jsonrpc::parse("[1,2]"));
  CHECK_FALSE(jsonrpc::parse(R"({"jsonrpc":"2.0","id":null,"method":"x"})"));
  CHECK_FALSE(jsonrpc::parse(R"({"jsonrpc":"2.0","id":1.5,"method":"x"})"));
  CHECK_FALSE(jsonrpc::parse(R"({"jsonrpc":"2.0","id":1})"));
  CHECK_FALSE(jsonrpc::parse(R"({"jsonrpc":"2.0","id":1,"result":1,"error":{}})"));
}

TEST_CASE("a multi-line JSON body becomes one line with its bytes otherwise kept") {
  auto r = jsonrpc::parse(
      "{\r\n  \"jsonrpc\": \"2.0\",\n  \"id\": 1,\n  \"result\": {\"t\": \"a\\nb\"}\n}");
  REQUIRE(r);
  CHECK(r->raw.find('\n') == std::string::npos);
  CHECK(r->raw.find('\r') == std::string::npos);
  CHECK(r->raw.find("\"a\\nb\"") != std::string::npos);
}

TEST_CASE("batches are split into messages") {
  auto r = jsonrpc::parse_body(
      R"([{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","method":"n"}])");
  REQUIRE(r);
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].kind == Kind::response);
  CHECK((*r)[1].kind == Kind::notification);
}

TEST_CASE("error responses are valid JSON-RPC") {
  auto text = jsonrpc::error_response("", -32700, "Parse error: \"x\"");
  auto r = jsonrpc::parse(text);
  REQUIRE(r);
  CHECK(r->kind == Kind::response);
  CHECK(json::member(r->doc, "id")->IsNull());
  auto with_data = jsonrpc::parse(jsonrpc::error_response("\"a\"", -32000, "m", R"({"k":1})"));
  REQUIRE(with_data);
  CHECK(with_data->id == "\"a\"");
}

TEST_CASE("the id of a truncated message is found at the top level only") {
  CHECK(jsonrpc::find_id(R"({"jsonrpc":"2.0","id":5,"params":{"x":")", "") == "5");
  CHECK(jsonrpc::find_id(R"({"params":{"id":9,"data":")", R"(aaaa"},"id":"req-1"})") ==
        "\"req-1\"");
  CHECK(jsonrpc::find_id(R"({"method":"id","params":{"id":9,"x":")", "aaaa\"}}") == std::nullopt);
  CHECK(jsonrpc::find_id(R"({"s":"\"id\":4","id":-3,)", "") == "-3");
}

TEST_CASE("finding the id of a truncated message never recurses on its length") {
  // 64 KiB of string, as the framer keeps at most: a regex over it overflowed the stack.
  std::string long_id(64 * 1024, 'i');
  CHECK(jsonrpc::find_id(R"({"jsonrpc":"2.0","id":")" + long_id + "\",", "") ==
        "\"" + long_id + "\"");
  CHECK(jsonrpc::find_id("{\"params\":{\"x\":\"", "\"},\"id\":\"" + long_id + "\"}") ==
        "\"" + long_id + "\"");
  CHECK(jsonrpc::find_id(R"({"id":")" + long_id, "") == std::nullopt);  // cut inside the id
  CHECK(jsonrpc::find_id("{\"a\":\"", "x\\\"},\"id\":\"q\\\"uote\"}") == R"("q\"uote")");
  CHECK(jsonrpc::find_id("{\"a\":\"", "x\"},\"id\": 7 }") == "7");
  CHECK(jsonrpc::find_id("{\"a\":\"", "x\"},\"id\": 1.5e3 }") == std::nullopt);  // not an id
  CHECK(jsonrpc::find_id("{\"a\":\"", "x\"},\"xid\":7}") == std::nullopt);
}

TEST_CASE("an id that is a number but not a 64-bit integer is refused, echoed as written") {
  for (const char* id : {"1.5", "18446744073709551616", "-1e3", "1.0"}) {
    auto r = jsonrpc::parse(std::string(R"({"jsonrpc":"2.0","id":)") + id + R"(,"method":"ping"})");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == jsonrpc::code::invalid_request);
    CHECK(r.error().id == id);
    CHECK(r.error().message.find("64-bit") != std::string::npos);
  }
  auto nested = jsonrpc::parse(R"({"jsonrpc":"2.0","params":{"id":2.5},"id":0.5,"method":"x"})");
  REQUIRE_FALSE(nested);
  CHECK(nested.error().id == "0.5");
}

// Found by fuzz_stdin_framing: the id of an oversized line, found by scanning, went into the
// error answer as it was, a control character or "1-2" included: not JSON.
TEST_CASE("an id found by scanning is used only when it is a JSON string or integer") {
  CHECK(jsonrpc::find_id("{\"id\":\"a\x01"
                         "b\",",
                         "") == std::nullopt);
  CHECK(jsonrpc::find_id(R"({"id":1-2,)", "") == std::nullopt);
  CHECK(jsonrpc::find_id(R"({"id":"\u00e9t\u00e9",)", "") == R"("\u00e9t\u00e9")");
  CHECK(jsonrpc::find_id(R"({"id":-12,)", "") == "-12");
}

namespace {

/// A message of `size` bytes at least: `head`, then a string of that many 'x', then `tail`.
std::string with_long_string(const std::string& head, std::size_t size, const std::string& tail) {
  return head + "\"" + std::string(size, 'x') + "\"" + tail;
}

}  // namespace

TEST_CASE("a large response keeps its long strings out of its document, and its text whole") {
  const auto text = with_long_string(R"({"jsonrpc":"2.0","id":"a","result":{"content":[{"text":)",
                                     jsonrpc::k_longest_kept + 1, R"(}],"isError":false}})");
  auto r = jsonrpc::parse_body(text, /*trim=*/true);
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  auto& m = r->front();
  CHECK(m.trimmed);
  CHECK(m.kind == Kind::response);
  CHECK(m.id == "\"a\"");
  CHECK(m.raw == text);
  const auto& item = m.doc["result"]["content"][0];
  CHECK(item["text"].GetString() == json::k_trimmed);
  CHECK(m.doc["result"]["isError"].IsFalse());

  jsonrpc::make_whole(m);
  CHECK_FALSE(m.trimmed);
  CHECK(m.doc["result"]["content"][0]["text"].GetStringLength() == jsonrpc::k_longest_kept + 1);
  CHECK(json::to_string(m.doc) == text);

  // Without trim, or with no string over the bound, nothing is left out.
  auto whole = jsonrpc::parse_body(text);
  REQUIRE(whole);
  CHECK_FALSE(whole->front().trimmed);
  auto small = jsonrpc::parse_body(
      with_long_string(R"({"jsonrpc":"2.0","id":1,"result":{"t":)", jsonrpc::k_longest_kept, "}}"),
      true);
  REQUIRE(small);
  CHECK_FALSE(small->front().trimmed);
}

TEST_CASE("only a response whose id was kept stays trimmed") {
  const std::size_t n = jsonrpc::k_longest_kept + 1;
  for (const auto& text :
       {with_long_string(
            R"({"jsonrpc":"2.0","id":1,"method":"sampling/createMessage","params":{"p":)", n, "}}"),
        with_long_string(R"({"jsonrpc":"2.0","method":"notifications/message","params":{"data":)",
                         n, "}}"),
        with_long_string(R"({"jsonrpc":"2.0","result":{},"id":)", n, "}"),
        with_long_string(R"([{"jsonrpc":"2.0","id":2,"result":{"t":)", n, "}}]")}) {
    auto r = jsonrpc::parse_body(text, true);
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    CHECK_FALSE(r->front().trimmed);
    CHECK(json::to_string(r->front().doc).size() == text.size() - (text.front() == '[' ? 2 : 0));
  }
}

TEST_CASE("a large request of the named method alone stays trimmed") {
  const std::size_t n = jsonrpc::k_longest_kept + 1;
  const auto call = with_long_string(
      R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"d","arguments":{"x":)", n,
      "}}}");
  auto m = jsonrpc::parse(call, "tools/call");
  REQUIRE(m);
  CHECK(m->trimmed);
  CHECK(m->kind == Kind::request);
  CHECK(m->id == "7");
  CHECK(m->method == "tools/call");
  CHECK(m->raw == call);
  CHECK(m->doc["params"]["name"] == "d");
  CHECK(m->doc["params"]["arguments"]["x"].GetString() == json::k_trimmed);
  jsonrpc::make_whole(*m);
  CHECK(json::to_string(m->doc) == call);

  // Not without the method named, nor another method's, nor a notification's, nor one whose
  // id or method was itself left out, nor a response's (parse_body takes those).
  for (const auto& [text, method] : std::vector<std::pair<std::string, std::string>>{
           {call, ""},
           {call, "tools/list"},
           {with_long_string(R"({"jsonrpc":"2.0","method":"tools/call","params":{"x":)", n, "}}"),
            "tools/call"},
           {with_long_string(R"({"jsonrpc":"2.0","method":"tools/call","id":)", n, "}"),
            "tools/call"},
           {with_long_string(R"({"jsonrpc":"2.0","id":1,"method":)", n, "}"), ""},
           {with_long_string(R"({"jsonrpc":"2.0","id":1,"result":{"x":)", n, "}}"),
            "tools/call"}}) {
    auto r = jsonrpc::parse(text, method);
    if (!r) continue;  // a method that is a long string is no method a bridge answers
    CHECK_FALSE(r->trimmed);
    CHECK(json::to_string(r->doc) == text);
  }
}

TEST_CASE("members go first into a top-level object of the text, in place") {
  std::string text = R"({"jsonrpc":"2.0","id":1,"result": { "a":"}\"result\":{" }})";
  text.reserve(text.size() + 64);
  const auto* before = text.data();
  REQUIRE(jsonrpc::add_first_members(text, "result", R"("k":1)"));
  CHECK(text == R"({"jsonrpc":"2.0","id":1,"result": {"k":1, "a":"}\"result\":{" }})");
  CHECK(text.data() == before);

  std::string empty = R"({"result":{},"id":2})";
  REQUIRE(jsonrpc::add_first_members(empty, "result", R"("k":1,"j":"x")"));
  CHECK(empty == R"({"result":{"k":1,"j":"x"},"id":2})");

  // Only a top-level member that is an object.
  for (std::string no : {std::string(R"({"x":{"result":{}}})"), std::string(R"({"result":[1]})"),
                         std::string(R"({"error":{}})")}) {
    const auto was = no;
    CHECK_FALSE(jsonrpc::add_first_members(no, "result", R"("k":1)"));
    CHECK(no == was);
  }
}
