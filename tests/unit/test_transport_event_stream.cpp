// Event streams against a scripted remote: a response stream cut before its answer is
// resumed with Last-Event-ID (a few times at most, never onto a new session for a call that
// must not run twice); the GET stream is reopened, and comes back on a new session.

#include "tests/unit/fake_http_transport.hpp"

#include <catch2/catch.hpp>

using claribi::test::RemoteHarness;
using claribi::transport::HttpDone;

namespace {

constexpr const char* k_call =
    R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow","arguments":{}}})";
constexpr const char* k_progress =
    R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}})";
constexpr const char* k_result = R"({"jsonrpc":"2.0","id":7,"result":{"content":[]}})";

HttpDone cut() {
  HttpDone d;
  d.ok = false;
  d.error = "Connection reset by peer";
  return d;
}

/// A session on "s1", then the call answered with an event stream that sent one event
/// ("e1") and `retry: 0`; returns the POST's transfer, still open.
claribi::transport::HttpTransport::TransferId call_with_stream(
    RemoteHarness& h, claribi::transport::SendExtras x = {}) {
  h.open_session("s1");
  h.send(k_call, std::move(x));
  auto post = h.http.last();
  h.http.head(post, 200, "text/event-stream");
  h.http.retry(post, 0);
  h.http.event(post, k_progress, "e1");
  return post;
}

}  // namespace

TEST_CASE("a response stream cut before its answer resumes from the last event id",
          "[remote][stream]") {
  RemoteHarness h;
  auto post = call_with_stream(h);
  h.http.end(post, cut());
  h.settle();
  auto& resume = h.http.at(h.http.last());
  REQUIRE(resume.request.method == "GET");
  CHECK(resume.header("Last-Event-ID") == "e1");
  CHECK(resume.header("Mcp-Session-Id") == "s1");
  CHECK(resume.header("Accept") == "text/event-stream");

  h.http.head(h.http.last(), 200, "text/event-stream");
  h.http.event(h.http.last(), k_result, "e2");
  CHECK(h.failures.empty());
  // The progress and the result reach the client as carried by request 7's stream.
  REQUIRE(h.messages.size() == 3);
  CHECK(h.messages[1] == std::make_pair(std::string(k_progress), std::string("7")));
  CHECK(h.messages[2] == std::make_pair(std::string(k_result), std::string("7")));
}

TEST_CASE("a resumed stream that keeps ending unanswered fails after five resumptions",
          "[remote][stream]") {
  RemoteHarness h;
  auto post = call_with_stream(h);
  h.http.end(post, HttpDone{});
  int gets = 0;
  for (; gets < 10 && h.failures.empty(); ++gets) {
    h.settle();
    auto id = h.http.last();
    REQUIRE(h.http.at(id).request.method == "GET");
    CHECK(h.http.at(id).header("Last-Event-ID") == "e" + std::to_string(gets + 1));
    h.http.head(id, 200, "text/event-stream");
    h.http.event(id, "", "e" + std::to_string(gets + 2));  // primes resumption, no message
    h.http.end(id, HttpDone{});
  }
  CHECK(gets == 5);
  REQUIRE(h.failures.size() == 1);
  CHECK(h.failures[0].id == "7");
  CHECK(h.failures[0].failure.message.find("resuming it failed (HTTP 200)") != std::string::npos);
}

TEST_CASE("a stream cut without any event id is not resumed", "[remote][stream]") {
  RemoteHarness h;
  h.open_session("s1");
  h.send(k_call);
  auto post = h.http.last();
  h.http.head(post, 200, "text/event-stream");
  h.http.event(post, k_progress, "");
  h.http.end(post, cut());
  h.settle();
  CHECK(h.http.last() == post);
  REQUIRE(h.failures.size() == 1);
  CHECK(h.failures[0].failure.message ==
        "claribi-bridge: the remote closed the event stream before answering (Connection "
        "reset by peer)");
}

TEST_CASE("resuming onto a lost session sends a repeatable call again on a new session",
          "[remote][stream]") {
  RemoteHarness h;
  auto post = call_with_stream(h);
  h.http.end(post, cut());
  h.settle();
  h.http.answer(h.http.last(), 404, "", "");  // the GET with Last-Event-ID: session gone
  auto& replay = h.http.at(h.http.last());
  REQUIRE(replay.request.body.find("\"initialize\"") != std::string::npos);
  CHECK(h.failures.empty());
}

TEST_CASE("resuming onto a lost session fails a call that must not run twice", "[remote][stream]") {
  RemoteHarness h;
  claribi::transport::SendExtras once;
  once.at_most_once = true;
  auto post = call_with_stream(h, std::move(once));
  h.http.end(post, cut());
  h.settle();
  auto get = h.http.last();
  h.http.answer(get, 404, "", "");
  CHECK(h.http.last() == get);  // no new session on its account, nothing sent again
  REQUIRE(h.failures.size() == 1);
  CHECK(h.failures[0].failure.http_status == 404);
  CHECK(h.failures[0].failure.message.find("may or may not have run") != std::string::npos);
}

TEST_CASE("the GET stream delivers server messages and reconnects from its last event",
          "[remote][stream]") {
  RemoteHarness h;
  auto get = h.open_session("s1");
  CHECK(h.http.at(get).header("Mcp-Session-Id") == "s1");
  CHECK_FALSE(h.http.at(get).header("Last-Event-ID"));
  h.http.head(get, 200, "text/event-stream");
  h.http.retry(get, 0);
  constexpr const char* k_changed =
      R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})";
  h.http.event(get, k_changed, "g1");
  REQUIRE(h.messages.size() == 2);
  CHECK(h.messages[1] == std::make_pair(std::string(k_changed), std::string()));
  h.http.end(get, HttpDone{});
  h.settle();
  auto again = h.http.last();
  REQUIRE(again != get);
  CHECK(h.http.at(again).request.method == "GET");
  CHECK(h.http.at(again).header("Last-Event-ID") == "g1");
}

TEST_CASE("the GET stream comes back on the new session after a lost one", "[remote][stream]") {
  RemoteHarness h;
  auto get = h.open_session("s1");
  h.http.head(get, 200, "text/event-stream");
  h.http.event(get, "", "g7");
  h.send(R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})");
  h.http.answer(h.http.last(), 404, "", "");
  CHECK(h.http.at(get).cancelled);
  // Replay initialize and initialized on "s2".
  auto replay = h.http.last();
  h.http.answer(replay, 200, "application/json",
                RemoteHarness::initialize_result(R"("claribi-bridge-session-1")"),
                {{"Mcp-Session-Id", "s2"}});
  h.http.answer(h.http.last(), 202, "", "");
  auto& fresh = h.http.at(h.http.last());
  REQUIRE(fresh.request.method == "GET");
  CHECK(fresh.header("Mcp-Session-Id") == "s2");
  // The old session's position means nothing on the new one.
  CHECK_FALSE(fresh.header("Last-Event-ID"));
}

TEST_CASE("a GET stream answered 404 opens a new session", "[remote][stream]") {
  RemoteHarness h;
  auto get = h.open_session("s1");
  h.http.answer(get, 404, "", "");
  auto& replay = h.http.at(h.http.last());
  REQUIRE(replay.request.method == "POST");
  CHECK(replay.request.body.find("\"claribi-bridge-session-1\"") != std::string::npos);
  CHECK_FALSE(replay.header("Mcp-Session-Id"));
}

TEST_CASE("a remote without a GET stream (405) is not asked again", "[remote][stream]") {
  RemoteHarness h;
  auto get = h.open_session("s1");
  h.http.answer(get, 405, "", "");
  h.settle(700);  // past the first back-off
  CHECK(h.http.last() == get);
}
