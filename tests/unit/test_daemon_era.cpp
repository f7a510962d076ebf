#include "daemon/era.hpp"

#include "tests/unit/json_doc.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace era = claribi::daemon::era;
namespace json = claribi::json;
namespace jsonrpc = claribi::jsonrpc;

using claribi::test::doc;

TEST_CASE("a 2025 client's requests get the 2026-07-28 envelope", "[era]") {
  auto init = doc(R"({"protocolVersion":"2025-06-18","capabilities":{"elicitation":{}},
                     "clientInfo":{"name":"c","version":"1"}})");
  auto who = era::identity_from_initialize(&init);
  who.log_level = "debug";
  auto call = doc(R"({"jsonrpc":"2.0","id":3,"method":"tools/call",
                     "params":{"name":"t","_meta":{"progressToken":"p"}}})");
  auto stamped = doc(era::stamp(call, who));
  const auto& meta = stamped["params"]["_meta"];
  CHECK(std::string(meta["progressToken"].GetString()) == "p");
  CHECK(std::string(meta["io.modelcontextprotocol/protocolVersion"].GetString()) == "2026-07-28");
  CHECK(meta["io.modelcontextprotocol/clientCapabilities"].HasMember("elicitation"));
  CHECK(std::string(meta["io.modelcontextprotocol/clientInfo"]["name"].GetString()) == "c");
  CHECK(std::string(meta["io.modelcontextprotocol/logLevel"].GetString()) == "debug");
  // And back: a 2025 server sees none of it, but the client's own keys.
  CHECK(json::to_string(doc(era::strip(stamped))["params"]) ==
        R"({"name":"t","_meta":{"progressToken":"p"}})");
}

TEST_CASE("initialize and server/discover answer each other", "[era]") {
  auto discover = doc(R"({"resultType":"complete","supportedVersions":["2026-07-28"],
      "capabilities":{"tools":{"listChanged":true}},"instructions":"Be brief.",
      "_meta":{"io.modelcontextprotocol/serverInfo":{"name":"s","version":"2"}}})");
  auto init = doc(era::initialize_result(discover, "2025-06-18"));
  CHECK(std::string(init["protocolVersion"].GetString()) == "2025-06-18");
  CHECK(init["capabilities"]["tools"]["listChanged"].GetBool());
  CHECK(std::string(init["serverInfo"]["name"].GetString()) == "s");
  CHECK(std::string(init["instructions"].GetString()) == "Be brief.");
  // A version the bridge does not speak gets the newest 2025 one.
  CHECK(std::string(
            doc(era::initialize_result(discover, "1999-01-01"))["protocolVersion"].GetString()) ==
        "2025-11-25");
  auto back = doc(era::discover_result(init));
  CHECK(std::string(back["supportedVersions"][0].GetString()) == "2026-07-28");
  CHECK(std::string(back["_meta"]["io.modelcontextprotocol/serverInfo"]["version"].GetString()) ==
        "2");
}

TEST_CASE("input_required retries carry the answers and the state byte for byte", "[era]") {
  auto result = doc(R"({"resultType":"input_required","requestState":"{\"n\": 1, \"x\":\"\u00e9\"}",
      "inputRequests":{"confirm":{"method":"elicitation/create","params":{"message":"ok?"}}}})");
  REQUIRE(era::is_input_required(result));
  auto asked = era::parse_input_required(result);
  REQUIRE(asked);
  REQUIRE(asked->requests.size() == 1);
  CHECK(asked->requests[0].method == "elicitation/create");
  auto retry = doc(era::retry_request(
      R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"t","requestState":"old"}})",
      R"("retry-1")", {{"confirm", R"({"action":"accept","content":{"ok":true}})"}}, *asked));
  CHECK(std::string(retry["id"].GetString()) == "retry-1");
  CHECK(std::string(retry["params"]["requestState"].GetString()) ==
        "{\"n\": 1, \"x\":\"\xc3\xa9\"}");
  CHECK(std::string(retry["params"]["inputResponses"]["confirm"]["action"].GetString()) ==
        "accept");
  // No state from the server: none goes back.
  auto stateless = doc(R"({"resultType":"input_required",
      "inputRequests":{"r":{"method":"roots/list"}}})");
  auto asked2 = era::parse_input_required(stateless);
  REQUIRE(asked2);
  auto retry2 = doc(era::retry_request(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"requestState":"stale"}})", "2",
      {{"r", R"({"roots":[]})"}}, *asked2));
  CHECK_FALSE(retry2["params"].HasMember("requestState"));
  CHECK_FALSE(era::is_input_required(doc(R"({"content":[]})")));
  CHECK_FALSE(era::parse_input_required(doc(R"({"resultType":"input_required"})")));
}

TEST_CASE("the Tasks extension is not offered across the eras", "[era]") {
  auto discover = doc(R"({"resultType":"complete","supportedVersions":["2026-07-28"],
      "capabilities":{"tools":{},"extensions":{"io.modelcontextprotocol/tasks":{},"x/y":{}}}})");
  auto init = doc(era::initialize_result(discover, "2025-11-25"));
  CHECK(json::to_string(init["capabilities"]) == R"({"tools":{},"extensions":{"x/y":{}}})");
  auto params = doc(R"({"capabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}},
                       "clientInfo":{"name":"c","version":"1"}})");
  CHECK(era::identity_from_initialize(&params).capabilities == "{}");
  CHECK(era::is_task_handle(doc(R"({"resultType":"task","task":{"taskId":"t"}})")));
  CHECK_FALSE(era::is_task_handle(doc(R"({"resultType":"complete"})")));
  auto call = doc(R"({"jsonrpc":"2.0","id":1,"method":"tools/call",
                     "params":{"name":"t","task":{"ttl":1000}}})");
  CHECK(era::strip_task_augmentation(call));
  CHECK_FALSE(call["params"].HasMember("task"));
  CHECK_FALSE(era::strip_task_augmentation(call));
}

TEST_CASE("a 2025 server's results say resultType, and lists how long to cache", "[era]") {
  auto list = doc(R"({"jsonrpc":"2.0","id":1,"result":{"tools":[]}})");
  CHECK(era::mark_complete(list, "tools/list"));
  CHECK(json::to_string(list["result"]) ==
        R"({"tools":[],"resultType":"complete","ttlMs":0,"cacheScope":"private"})");
  CHECK_FALSE(era::mark_complete(list, "tools/list"));
  auto call = doc(R"({"jsonrpc":"2.0","id":2,"result":{"content":[]}})");
  CHECK(era::mark_complete(call, "tools/call"));
  CHECK_FALSE(call["result"].HasMember("ttlMs"));
  auto error = doc(R"({"jsonrpc":"2.0","id":3,"error":{"code":1,"message":"m"}})");
  CHECK_FALSE(era::mark_complete(error, "tools/list"));
}

TEST_CASE("a large answer's text gets resultType in place, its long strings untouched", "[era]") {
  const std::string text = R"({"jsonrpc":"2.0","id":1,"result":{"contents":[{"text":")" +
                           std::string(jsonrpc::k_longest_kept + 1, 'x') + R"("}]}})";
  for (const char* method : {"resources/read", "tools/call"}) {
    auto parsed = jsonrpc::parse_body(text, /*trim=*/true);
    REQUIRE(parsed);
    auto& m = parsed->front();
    REQUIRE(m.trimmed);
    CHECK(era::mark_complete(m, method));
    CHECK(m.trimmed);
    jsonrpc::make_whole(m);
    auto expected = doc(text);
    era::mark_complete(expected, method);
    CHECK(m.doc == expected);
    CHECK_FALSE(era::mark_complete(m, method));
  }
  // A whole message is written out again, as before.
  auto small = jsonrpc::parse(R"({"jsonrpc":"2.0","id":2,"result":{}})");
  REQUIRE(small);
  CHECK(era::mark_complete(*small, "tools/call"));
  CHECK(small->raw == R"({"jsonrpc":"2.0","id":2,"result":{"resultType":"complete"}})");
}

namespace {

constexpr const char* k_trace =
    R"("traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",)"
    R"("tracestate":"vendor=opaque","baggage":"user=alice,tier=gold")";

/// Whether `meta` carries the three trace context keys of `k_trace`, unchanged.
bool carries_trace(const json::Value& meta) {
  auto want = doc(std::string("{") + k_trace + "}");
  for (const auto& key : {"traceparent", "tracestate", "baggage"}) {
    const auto* v = json::member(meta, key);
    if (v == nullptr || !v->IsString() || *v != want[key]) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("trace context (SEP-414) crosses the eras in requests both ways", "[era][trace]") {
  era::ClientIdentity who;
  who.capabilities = R"({"elicitation":{}})";
  // A 2025 client's request to a 2026-07-28 remote: stamped, its trace context kept.
  auto call = doc(std::string(R"({"jsonrpc":"2.0","id":1,"method":"tools/call",)") +
                  R"("params":{"name":"t","_meta":{"progressToken":3,)" + k_trace + "}}}");
  auto stamped = doc(era::stamp(call, who));
  CHECK(carries_trace(stamped["params"]["_meta"]));
  CHECK(stamped["params"]["_meta"].HasMember("io.modelcontextprotocol/protocolVersion"));
  // A 2026-07-28 client's request to a 2025 remote: the envelope goes, the trace stays.
  auto stripped = doc(era::strip(stamped));
  CHECK(carries_trace(stripped["params"]["_meta"]));
  CHECK_FALSE(stripped["params"]["_meta"].HasMember("io.modelcontextprotocol/protocolVersion"));
  // A 2026-07-28 remote's questions become requests to a 2025 client with their own _meta.
  auto asking = doc(std::string(R"({"resultType":"input_required","inputRequests":{"q":{)") +
                    R"("method":"elicitation/create","params":{"message":"ok?","_meta":{)" +
                    k_trace + "}}}}}");
  auto asked = era::parse_input_required(asking);
  REQUIRE(asked);
  REQUIRE(asked->requests.size() == 1);
  CHECK(carries_trace(doc(asked->requests[0].params)["_meta"]));
  // And the retry with the answers keeps the original request's trace context.
  auto retry = doc(era::retry_request(json::to_string(stripped), "9", {{"q", "{}"}}, *asked));
  CHECK(carries_trace(retry["params"]["_meta"]));
}

TEST_CASE("trace context (SEP-414) survives the results the translation rebuilds", "[era][trace]") {
  // server/discover → a 2025 client's initialize result.
  auto discover =
      doc(std::string(R"({"resultType":"complete","supportedVersions":["2026-07-28"],)") +
          R"("capabilities":{},"_meta":{"io.modelcontextprotocol/serverInfo":)" +
          R"({"name":"s","version":"2"},)" + k_trace + "}}");
  auto init = doc(era::initialize_result(discover, "2025-11-25"));
  REQUIRE(init.HasMember("_meta"));
  CHECK(carries_trace(init["_meta"]));
  CHECK_FALSE(init["_meta"].HasMember("io.modelcontextprotocol/serverInfo"));  // serverInfo now
  CHECK(std::string(init["serverInfo"]["name"].GetString()) == "s");
  // A 2025 server's initialize result → a 2026-07-28 client's server/discover result.
  auto opened = doc(std::string(R"({"protocolVersion":"2025-11-25","capabilities":{},)") +
                    R"("serverInfo":{"name":"old","version":"1"},"_meta":{)" + k_trace + "}}");
  auto back = doc(era::discover_result(opened));
  CHECK(carries_trace(back["_meta"]));
  CHECK(std::string(back["_meta"]["io.modelcontextprotocol/serverInfo"]["name"].GetString()) ==
        "old");
}

TEST_CASE("capability extensions cross the eras unchanged, but the Tasks one",
          "[era][extensions]") {
  const std::string extensions =
      R"({"io.modelcontextprotocol/tasks":{},"io.modelcontextprotocol/ui":{"mimeTypes":["text/html"]},)"
      R"("com.example/audit":{"level":2,"sinks":["a","b"],"on":true}})";
  const std::string kept = R"({"io.modelcontextprotocol/ui":{"mimeTypes":["text/html"]},)"
                           R"("com.example/audit":{"level":2,"sinks":["a","b"],"on":true}})";
  // A 2026-07-28 server's → a 2025 client (initialize from server/discover).
  auto discover =
      doc(R"({"supportedVersions":["2026-07-28"],"capabilities":{"tools":{},"extensions":)" +
          extensions + "}}");
  auto init = doc(era::initialize_result(discover, "2025-11-25"));
  CHECK(json::to_string(init["capabilities"]["extensions"]) == kept);
  // A 2025 client's → a 2026-07-28 server (the envelope of every request).
  auto params = doc(R"({"capabilities":{"roots":{},"extensions":)" + extensions +
                    R"(},"clientInfo":{"name":"c","version":"1"}})");
  auto from_2025 = era::identity_from_initialize(&params);
  CHECK(json::to_string(doc(from_2025.capabilities)["extensions"]) == kept);
  // A 2026-07-28 client's → a 2025 server (the initialize the bridge sends for it).
  auto request = doc(R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{)"
                     R"("io.modelcontextprotocol/clientCapabilities":{"extensions":)" +
                     extensions + "}}}}");
  auto from_2026 = era::identity_from_meta(request);
  auto initialize = doc(era::initialize_params(from_2026));
  CHECK(json::to_string(initialize["capabilities"]["extensions"]) == kept);
  // A 2025 server's → a 2026-07-28 client (server/discover from initialize).
  auto opened = doc(R"({"protocolVersion":"2025-11-25","capabilities":{"extensions":)" +
                    extensions + R"(},"serverInfo":{"name":"old","version":"1"}})");
  CHECK(json::to_string(doc(era::discover_result(opened))["capabilities"]["extensions"]) == kept);
  // Only the Tasks extension: no extensions member left.
  auto only_tasks = doc(
      R"({"protocolVersion":"2025-11-25","capabilities":{"tools":{},"extensions":{"io.modelcontextprotocol/tasks":{}}}})");
  CHECK(json::to_string(doc(era::discover_result(only_tasks))["capabilities"]) ==
        R"({"tools":{}})");
}
