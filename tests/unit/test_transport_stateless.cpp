// Requests to a 2026-07-28 remote against a scripted remote: a modern error (HeaderMismatch,
// UnsupportedProtocolVersion naming the claimed revision) is fixed and sent again, never read
// as a 2025 server; a response stream cut before its answer is never resumed (that revision
// has no Last-Event-ID), idempotent requests are sent once more under a new id, and a call
// that must not run twice fails saying it may or may not have run.

#include "tests/unit/fake_http_transport.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using claribi::test::RemoteHarness;
using claribi::transport::HttpDone;
using claribi::transport::SendExtras;
namespace json = claribi::json;

namespace {

constexpr const char* k_modern_discover =
    R"({"jsonrpc":"2.0","id":"claribi-bridge-discover-1","result":{"supportedVersions":["2026-07-28"],"capabilities":{}}})";
constexpr const char* k_meta =
    R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"})";

/// A Remote that learnt the remote speaks 2026-07-28.
struct Modern {
  RemoteHarness h{claribi::transport::TransportKind::auto_detect};

  Modern() {
    bool modern = false;
    h.remote->discover(
        R"({"io.modelcontextprotocol/protocolVersion":"2026-07-28"})",
        [&](claribi::Result<claribi::transport::Discovery> d) { modern = d && d->modern; });
    h.http.answer(h.http.last(), 200, "application/json", k_modern_discover);
    REQUIRE(modern);
  }

  /// Sends a request of `method` with `params` (the envelope added) statelessly.
  claribi::transport::HttpTransport::TransferId send(const std::string& id,
                                                     const std::string& method,
                                                     const std::string& params = "",
                                                     SendExtras x = {}) {
    x.stateless_version = "2026-07-28";
    h.send(R"({"jsonrpc":"2.0","id":)" + id + R"(,"method":")" + method + R"(","params":{)" +
               params + (params.empty() ? "" : ",") + k_meta + "}}",
           std::move(x));
    return h.http.last();
  }
  json::Document body(claribi::transport::HttpTransport::TransferId t) {
    return json::parse_or_null(h.http.at(t).request.body);
  }
  std::string id_of(claribi::transport::HttpTransport::TransferId t) {
    return json::to_string(body(t)["id"]);
  }
};

HttpDone cut() {
  HttpDone d;
  d.ok = false;
  d.error = "Connection reset by peer";
  return d;
}

std::string error_answer(const std::string& id, int code, const std::string& data = "") {
  return R"({"jsonrpc":"2.0","id":)" + id + R"(,"error":{"code":)" + std::to_string(code) +
         R"(,"message":"refused")" + (data.empty() ? "" : ",\"data\":" + data) + "}}";
}

}  // namespace

TEST_CASE("a HeaderMismatch answer is fixed and sent again, never a 2025 fallback",
          "[remote][stateless]") {
  Modern m;
  SendExtras x;
  x.headers = {"Mcp-Param-Region: eu"};
  auto first =
      m.send("5", "tools/call", R"("name":"weather","arguments":{"region":"eu"})", std::move(x));
  m.h.http.answer(first, 400, "application/json", error_answer("5", -32020));
  REQUIRE(m.h.http.last() == first + 1);
  auto& again = m.h.http.at(m.h.http.last());
  CHECK(again.request.method == "POST");
  CHECK(again.request.body == m.h.http.at(first).request.body);
  // The headers are computed anew from the body, the tool's own ones kept.
  CHECK(again.header("MCP-Protocol-Version") == "2026-07-28");
  CHECK(again.header("Mcp-Method") == "tools/call");
  CHECK(again.header("Mcp-Name") == "weather");
  CHECK(again.header("Mcp-Param-Region") == "eu");
  CHECK_FALSE(again.header("Mcp-Session-Id"));
  const std::string result = R"({"jsonrpc":"2.0","id":5,"result":{"content":[]}})";
  m.h.http.answer(m.h.http.last(), 200, "application/json", result);
  REQUIRE(m.h.messages.size() == 1);
  CHECK(m.h.messages[0].first == result);
  CHECK(m.h.failures.empty());
}

TEST_CASE("a second HeaderMismatch reaches the client as the remote said it",
          "[remote][stateless]") {
  Modern m;
  auto first = m.send("5", "tools/list");
  m.h.http.answer(first, 400, "application/json", error_answer("5", -32020));
  auto second = m.h.http.last();
  REQUIRE(second == first + 1);
  m.h.http.answer(second, 400, "application/json", error_answer("5", -32020));
  CHECK(m.h.http.last() == second);  // once only; and no initialize, no GET
  REQUIRE(m.h.messages.size() == 1);
  CHECK(m.h.messages[0].first == error_answer("5", -32020));
}

TEST_CASE("an UnsupportedProtocolVersion answer is sent again only when it lists the revision",
          "[remote][stateless]") {
  Modern m;
  auto first = m.send("6", "prompts/list");
  m.h.http.answer(first, 400, "application/json",
                  error_answer("6", -32022, R"({"supported":["2026-07-28"]})"));
  REQUIRE(m.h.http.last() == first + 1);
  CHECK(m.h.http.at(m.h.http.last()).header("MCP-Protocol-Version") == "2026-07-28");
  CHECK(m.h.messages.empty());

  // One naming only another revision: nothing to fix; the client hears it, no fallback.
  auto other = m.send("7", "prompts/list");
  const auto refusal = error_answer("7", -32022, R"({"supported":["2027-01-01"]})");
  m.h.http.answer(other, 400, "application/json", refusal);
  CHECK(m.h.http.last() == other);
  REQUIRE(m.h.messages.size() == 1);
  CHECK(m.h.messages[0].first == refusal);
}

TEST_CASE("a cut 2026-07-28 stream is never resumed; a list is sent once more under a new id",
          "[remote][stateless]") {
  Modern m;
  auto post = m.send("7", "tools/list");
  m.h.http.head(post, 200, "text/event-stream");
  m.h.http.retry(post, 0);
  constexpr const char* k_progress =
      R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}})";
  m.h.http.event(post, k_progress, "e1");
  m.h.http.end(post, cut());
  m.h.settle();
  auto again = m.h.http.last();
  REQUIRE(again == post + 1);
  auto& t = m.h.http.at(again);
  CHECK(t.request.method == "POST");  // no GET
  CHECK_FALSE(t.header("Last-Event-ID"));
  CHECK(t.header("Mcp-Method") == "tools/list");
  const auto wire_id = m.id_of(again);
  CHECK(wire_id != "7");
  CHECK(json::to_string(m.body(again)["params"]) == json::to_string(m.body(post)["params"]));
  // The answer to the new id reaches the client under the id it knows.
  m.h.http.answer(again, 200, "application/json",
                  R"({"jsonrpc":"2.0","id":)" + wire_id + R"(,"result":{"tools":[]}})");
  CHECK(m.h.failures.empty());
  REQUIRE(m.h.messages.size() == 2);
  CHECK(m.h.messages[1] ==
        std::make_pair(std::string(R"({"jsonrpc":"2.0","id":7,"result":{"tools":[]}})"),
                       std::string("7")));
}

TEST_CASE("a request sent again after a cut stream is not sent a third time",
          "[remote][stateless]") {
  Modern m;
  auto post = m.send("\"r\"", "resources/read", R"("uri":"file:///a")");
  m.h.http.head(post, 200, "text/event-stream");
  m.h.http.end(post, cut());
  m.h.settle();
  auto again = m.h.http.last();
  REQUIRE(again == post + 1);
  m.h.http.head(again, 200, "text/event-stream");
  m.h.http.end(again, HttpDone{});
  m.h.settle();
  CHECK(m.h.http.last() == again);
  REQUIRE(m.h.failures.size() == 1);
  CHECK(m.h.failures[0].id == "\"r\"");
  CHECK(m.h.failures[0].failure.message.find("cannot be resumed") != std::string::npos);
}

TEST_CASE("which requests a cut 2026-07-28 stream sends again", "[remote][stateless]") {
  struct Row {
    const char* method;
    const char* params;
    bool at_most_once;
    bool again;
  };
  const std::vector<Row> rows = {
      {"tools/list", "", false, true},
      {"prompts/list", "", false, true},
      {"resources/list", "", false, true},
      {"resources/templates/list", "", false, true},
      {"resources/read", R"("uri":"file:///a")", false, true},
      {"prompts/get", R"("name":"p")", false, true},
      {"completion/complete", R"("argument":{"name":"a","value":"b"})", false, true},
      {"server/discover", "", false, true},
      // A tool annotated readOnlyHint or idempotentHint: the tool layer says it may repeat.
      {"tools/call", R"("name":"get_weather")", false, true},
      // Any other tool: it must not run twice.
      {"tools/call", R"("name":"send_mail")", true, false},
      {"vendor/charge", "", true, false},
  };
  for (const auto& row : rows) {
    INFO(row.method << " " << row.params);
    Modern m;
    SendExtras x;
    x.at_most_once = row.at_most_once;
    auto post = m.send("3", row.method, row.params, std::move(x));
    m.h.http.head(post, 200, "text/event-stream");
    m.h.http.event(post, "", "e1");
    m.h.http.end(post, cut());
    m.h.settle();
    if (row.again) {
      REQUIRE(m.h.http.last() == post + 1);
      CHECK(m.h.http.at(post + 1).request.method == "POST");
      CHECK(m.id_of(post + 1) != "3");
      CHECK(m.h.failures.empty());
    } else {
      CHECK(m.h.http.last() == post);
      REQUIRE(m.h.failures.size() == 1);
      CHECK(m.h.failures[0].failure.message.find("may or may not have run") != std::string::npos);
    }
  }
}

TEST_CASE("a call sending a file goes again with its new id around the same file",
          "[remote][stateless]") {
  Modern m;
  const std::string prefix =
      R"({"jsonrpc":"2.0","id":"u","method":"tools/call","params":{"name":"tag_photo","arguments":{"data_base64":")";
  const std::string placeholder = "claribi-bridge-upload-0123";
  const std::string suffix =
      R"("},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}})";
  auto upload = std::make_shared<claribi::transport::UploadBody>();
  upload->prefix = prefix;
  upload->suffix = suffix;
  upload->path = "/tmp/photo.jpg";
  upload->file_size = 3;
  SendExtras x;
  x.stateless_version = "2026-07-28";
  x.upload = upload;
  m.h.send(prefix + placeholder + suffix, std::move(x));
  auto post = m.h.http.last();
  REQUIRE(m.h.http.at(post).request.upload == upload);
  m.h.http.head(post, 200, "text/event-stream");
  m.h.http.end(post, cut());
  m.h.settle();
  REQUIRE(m.h.http.last() == post + 1);
  const auto& again = m.h.http.at(post + 1).request;
  REQUIRE(again.upload);
  CHECK(again.upload->path == "/tmp/photo.jpg");
  CHECK(again.upload->suffix == suffix);
  CHECK(again.upload->prefix.find(R"("id":"claribi-bridge-reissue-)") != std::string::npos);
  CHECK(again.upload->prefix.find(R"("id":"u")") == std::string::npos);
  CHECK(upload->prefix == prefix);  // the first transfer's body is left alone
}
