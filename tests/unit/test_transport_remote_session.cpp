// The session as Remote keeps it, against a scripted remote: a lost session (404, or a 400
// naming it) is opened again by replaying the client's initialize, and what failed is sent
// again on the new one; the initialized gate; DELETE at the end.

#include "tests/unit/fake_http_transport.hpp"

#include <catch2/catch.hpp>

using claribi::test::RemoteHarness;
using claribi::transport::HttpDone;

namespace {

constexpr const char* k_list = R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})";
constexpr const char* k_list_answer = R"({"jsonrpc":"2.0","id":2,"result":{"tools":[]}})";

/// Answers the replayed initialize (the newest transfer) with session `sid`, then the
/// replayed notifications/initialized, then gives the new GET stream its head; the held
/// messages go out after it.
void complete_replay(RemoteHarness& h, const std::string& sid) {
  auto& replay = h.http.at(h.http.last());
  REQUIRE(replay.request.method == "POST");
  auto doc = claribi::json::parse_or_null(replay.request.body);
  REQUIRE(claribi::json::string_or_empty(claribi::json::member(doc, "method")) == "initialize");
  auto id = claribi::json::to_string(*claribi::json::member(doc, "id"));
  h.http.answer(h.http.last(), 200, "application/json", RemoteHarness::initialize_result(id),
                {{"Mcp-Session-Id", sid}});
  auto& initialized = h.http.at(h.http.last());
  REQUIRE(initialized.request.body == RemoteHarness::k_initialized);
  CHECK(initialized.header("Mcp-Session-Id") == sid);
  h.http.answer(h.http.last(), 202, "", "");
  auto get = h.http.last();
  REQUIRE(h.http.at(get).request.method == "GET");
  h.http.head(get, 200, "text/event-stream");
}

/// The session is lost with `status` and `body` on a tools/list; it must come back.
void lose_and_recover(long status, const std::string& body) {
  RemoteHarness h;
  auto get = h.open_session("s1");
  h.send(k_list);
  auto first = h.http.last();
  CHECK(h.http.at(first).header("Mcp-Session-Id") == "s1");
  CHECK(h.http.at(first).header("MCP-Protocol-Version") == "2025-06-18");
  h.http.answer(first, status, "application/json", body);

  // The old session's GET stream is dropped; the client's initialize goes again, without
  // a session id, under the bridge's own id.
  CHECK(h.http.at(get).cancelled);
  auto& replay = h.http.at(h.http.last());
  CHECK_FALSE(replay.header("Mcp-Session-Id"));
  CHECK(replay.request.body.find(R"("id":"claribi-bridge-session-1")") != std::string::npos);
  CHECK(replay.request.body.find(R"("clientInfo":{"name":"test","version":"1"})") !=
        std::string::npos);

  complete_replay(h, "s2");
  // The failed request goes again, unchanged, on the new session.
  auto again = h.http.last();  // after the new GET stream
  CHECK(h.http.at(again).request.body == k_list);
  CHECK(h.http.at(again).header("Mcp-Session-Id") == "s2");
  h.http.answer(again, 200, "application/json", k_list_answer);

  CHECK(h.failures.empty());
  // The client sees its own answers only: the replayed initialize's stays with the bridge.
  REQUIRE(h.messages.size() == 2);
  CHECK(h.messages[1].first == k_list_answer);
}

}  // namespace

TEST_CASE("a 404 to a request with the session replays initialize and sends it again",
          "[remote][session]") {
  lose_and_recover(404, "");
}

TEST_CASE("a 400 naming the session as gone is a lost session too", "[remote][session]") {
  lose_and_recover(
      400,
      R"({"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":null})");
}

TEST_CASE("a 400 that does not name the session fails the request", "[remote][session]") {
  RemoteHarness h;
  h.open_session("s1");
  h.send(k_list);
  auto before = h.http.count();
  h.http.answer(h.http.last(), 400, "text/plain", "invalid params: cursor");
  CHECK(h.http.count() == before);  // nothing replayed
  REQUIRE(h.failures.size() == 1);
  CHECK(h.failures[0].id == "2");
  CHECK(h.failures[0].failure.http_status == 400);
  CHECK(h.failures[0].failure.message.find("HTTP 400 from http://127.0.0.1:8123/mcp") !=
        std::string::npos);
}

TEST_CASE("a session lost again right after the new one opened fails the request",
          "[remote][session]") {
  RemoteHarness h;
  h.open_session("s1");
  h.send(k_list);
  h.http.answer(h.http.last(), 404, "", "");
  complete_replay(h, "s2");
  h.http.answer(h.http.last(), 404, "", "");  // the request, sent again on s2
  REQUIRE(h.failures.size() == 1);
  CHECK(h.failures[0].failure.http_status == 404);
  CHECK(h.failures[0].failure.message.find("ended the session again") != std::string::npos);
}

TEST_CASE("requests sent while the new session opens wait for it", "[remote][session]") {
  RemoteHarness h;
  h.open_session("s1");
  h.send(k_list);
  h.http.answer(h.http.last(), 404, "", "");
  auto replay = h.http.last();
  h.send(R"({"jsonrpc":"2.0","id":3,"method":"prompts/list"})");
  CHECK(h.http.last() == replay);  // held, not sent on the dead session
  complete_replay(h, "s2");
  // Both go out on s2, in order, after the new GET stream.
  auto& list = h.http.at(h.http.last() - 1);
  auto& prompts = h.http.at(h.http.last());
  CHECK(list.request.body == k_list);
  CHECK(prompts.request.body.find("prompts/list") != std::string::npos);
  CHECK(prompts.header("Mcp-Session-Id") == "s2");
  CHECK(h.http.at(h.http.last() - 2).request.method == "GET");
}

TEST_CASE("a new session the remote keeps losing is given up after three tries",
          "[remote][session]") {
  RemoteHarness h;
  h.open_session("s1");
  h.send(k_list);
  h.http.answer(h.http.last(), 404, "", "");
  // Each replayed initialize gets a session whose initialized is lost at once.
  for (int i = 0; i < 4; ++i) {
    INFO("replay " << i);
    h.http.answer(h.http.last(), 200, "application/json",
                  RemoteHarness::initialize_result("\"claribi-bridge-session-" +
                                                   std::to_string(i + 1) + "\""),
                  {{"Mcp-Session-Id", "n" + std::to_string(i)}});
    REQUIRE(h.http.at(h.http.last()).request.body == RemoteHarness::k_initialized);
    h.http.answer(h.http.last(), 404, "", "");
  }
  REQUIRE(h.failures.size() == 1);
  CHECK(h.failures[0].id == "2");
  CHECK(h.failures[0].failure.message.find("lost each new session before it was ready") !=
        std::string::npos);
}

namespace {

/// The client's initialize answered (session s1), its notifications/initialized sent and a
/// tools/list after it; returns the notification's transfer, not yet answered.
claribi::transport::HttpTransport::TransferId initialized_with_list_behind(RemoteHarness& h) {
  h.send(RemoteHarness::k_initialize);
  h.http.answer(h.http.last(), 200, "application/json", RemoteHarness::initialize_result("1"),
                {{"Mcp-Session-Id", "s1"}});
  h.send(RemoteHarness::k_initialized);
  auto initialized = h.http.last();
  h.send(k_list);
  return initialized;
}

}  // namespace

TEST_CASE("requests wait until the remote took notifications/initialized", "[remote][session]") {
  RemoteHarness h;
  auto initialized = initialized_with_list_behind(h);
  CHECK(h.http.last() == initialized);  // not sent yet: it could overtake the notification
  h.http.answer(initialized, 202, "", "");
  // The GET stream goes first: the remote may send what the next calls cause on it.
  auto get = initialized + 1;
  CHECK(h.http.at(get).request.method == "GET");
  CHECK(h.http.last() == get);
  h.http.head(get, 200, "text/event-stream");
  CHECK(h.http.at(get + 1).request.body == k_list);
}

TEST_CASE("a GET stream the remote refuses lets the held requests go", "[remote][session]") {
  RemoteHarness h;
  h.http.answer(initialized_with_list_behind(h), 202, "", "");
  auto get = h.http.last();
  REQUIRE(h.http.at(get).request.method == "GET");
  h.http.answer(get, 405, "", "");
  CHECK(h.http.at(get + 1).request.body == k_list);
}

TEST_CASE("shutdown deletes the session, carrying its id", "[remote][session]") {
  RemoteHarness h;
  auto get = h.open_session("s1");
  bool done = false;
  h.remote->shutdown(1000, [&] { done = true; });
  CHECK(h.http.at(get).cancelled);
  auto& del = h.http.at(h.http.last());
  REQUIRE(del.request.method == "DELETE");
  CHECK(del.header("Mcp-Session-Id") == "s1");
  CHECK(del.request.timeout_ms == 1000);
  h.http.end(h.http.last(), HttpDone{});
  CHECK(done);
}

TEST_CASE("the caller, not the body, decides whether a request goes statelessly", "[transport]") {
  RemoteHarness h;
  h.open_session("s1");
  const std::string enveloped =
      R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","_meta":{)"
      R"("io.modelcontextprotocol/protocolVersion":"2026-07-28"}}})";
  // An envelope in the body alone does not make it stateless: it goes in the session.
  h.send(enveloped);
  auto& in_session = h.http.at(h.http.last());
  CHECK(in_session.header("Mcp-Session-Id") == "s1");
  CHECK(in_session.header("MCP-Protocol-Version") == "2025-06-18");
  CHECK_FALSE(in_session.header("Mcp-Method"));
  // Told the revision, it goes statelessly, with the headers that revision derives.
  claribi::transport::SendExtras extras;
  extras.stateless_version = "2026-07-28";
  h.send(R"({"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo"}})", extras);
  auto& stateless = h.http.at(h.http.last());
  CHECK_FALSE(stateless.header("Mcp-Session-Id"));
  CHECK(stateless.header("MCP-Protocol-Version") == "2026-07-28");
  CHECK(stateless.header("Mcp-Method") == "tools/call");
  CHECK(stateless.header("Mcp-Name") == "echo");
}
