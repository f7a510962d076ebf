// The router end to end in one process: client lines in, what the remote is sent (a fake
// HTTP transport), what the client reads (the real stdout writer on a pipe).
#include <catch2/catch.hpp>

#include "daemon/bridge.hpp"
#include "tests/unit/fake_http_transport.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

using namespace claribi;
using namespace claribi::daemon;
using test::FakeHttpTransport;

namespace {

/// The bridge owns its transport; this one forwards to the test's fake.
class Forward final : public transport::HttpTransport {
 public:
  explicit Forward(FakeHttpTransport& fake) : m_fake(fake) {}
  TransferId start(transport::HttpRequest r, transport::HttpHandlers h) override {
    return m_fake.start(std::move(r), std::move(h));
  }
  void cancel(TransferId id) override { m_fake.cancel(id); }

 private:
  FakeHttpTransport& m_fake;
};

struct Router {
  asio::io_context io;
  FakeHttpTransport http;
  int fds[2] = {-1, -1};
  std::unique_ptr<StdoutWriter> out;
  std::unique_ptr<Bridge> bridge;
  bool finished = false;
  std::string pending;  ///< bytes read from the pipe, not yet a whole line

  explicit Router(long timeout_ms = 0, era::Pin pin = era::Pin::legacy) {
    REQUIRE(::pipe(fds) == 0);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    out = std::make_unique<StdoutWriter>(fds[1]);
    BridgeOptions o;
    o.remote.url = *parse_url("http://127.0.0.1:8123/mcp");
    o.protocol = pin;  // legacy by default: no era probe, the 2025 path
    o.timeout_ms = timeout_ms;
    o.make_transport = [this](asio::io_context&) { return std::make_unique<Forward>(http); };
    bridge = std::make_unique<Bridge>(io, *out, o, [this] { finished = true; });
  }
  ~Router() {
    bridge.reset();
    out->close();
    ::close(fds[0]);
    ::close(fds[1]);
  }

  void line(const std::string& text) {
    bridge->on_line(std::string(text));
    settle();
  }
  void settle(int ms = 20) {
    io.restart();
    io.run_for(std::chrono::milliseconds(ms));
  }
  /// The next line the client reads (waits up to a second).
  json::Document read() {
    for (int i = 0; i < 100; ++i) {
      auto nl = pending.find('\n');
      if (nl != std::string::npos) {
        auto l = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        return json::parse_or_null(l);
      }
      pollfd p{fds[0], POLLIN, 0};
      ::poll(&p, 1, 10);
      char buf[4096];
      auto n = ::read(fds[0], buf, sizeof buf);
      if (n > 0) pending.append(buf, static_cast<std::size_t>(n));
      settle(1);
    }
    FAIL("no line reached the client");
    return json::Document();
  }
  void handshake() {
    line(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",
        "capabilities":{},"clientInfo":{"name":"c","version":"1"}}})");
    http.answer(http.last(), 200, "application/json", test::RemoteHarness::initialize_result("0"),
                {{"Mcp-Session-Id", "s1"}});
    CHECK(json::to_string(read()["id"]) == "0");
    line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    http.answer(http.last(), 202, "", "");
    REQUIRE(http.at(http.last()).request.method == "GET");
    http.head(http.last(), 200, "text/event-stream");  // calls wait for the GET stream's head
    settle();
  }
  /// A 2025 client's handshake with a 2026-07-28 remote: the era probe, then initialize
  /// answered here.
  void modern_handshake() {
    line(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",
        "capabilities":{},"clientInfo":{"name":"c","version":"1"}}})");
    REQUIRE(last_post().header("Mcp-Method") == "server/discover");
    http.answer(http.last(), 200, "application/json",
                R"({"jsonrpc":"2.0","id":"claribi-bridge-discover-1","result":{)"
                R"("supportedVersions":["2026-07-28"],"capabilities":{"tools":{}}}})");
    settle();
    CHECK(json::to_string(read()["id"]) == "0");
    line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  }
  /// The last POST the remote was sent.
  test::FakeTransfer& last_post() {
    for (auto id = http.last(); id >= 1; --id) {
      if (http.at(id).request.method == "POST") return http.at(id);
    }
    FAIL("no POST");
    return http.at(1);
  }
};

}  // namespace

TEST_CASE("a tools/call goes down as the client wrote it and its answer comes back", "[router]") {
  Router r;
  r.handshake();
  const std::string call =
      R"({"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}})";
  r.line(call);
  auto& post = r.last_post();
  CHECK(post.request.body == call);
  CHECK(post.header("Mcp-Session-Id") == "s1");
  r.http.answer(
      r.http.last(), 200, "application/json",
      R"({"jsonrpc":"2.0","id":"c1","result":{"content":[{"type":"text","text":"hi"}]}})");
  auto answer = r.read();
  CHECK(json::to_string(answer["id"]) == "\"c1\"");
  CHECK(std::string(answer["result"]["content"][0]["text"].GetString()) == "hi");
}

TEST_CASE("bad input is answered locally and nothing reaches the remote", "[router]") {
  Router r;
  r.line("{not json");
  auto parse_error = r.read();
  CHECK(parse_error["error"]["code"].GetInt() == jsonrpc::code::parse_error);
  CHECK(r.http.count() == 0);  // nothing started: no network for a broken line
  r.handshake();
  auto before = r.http.count();
  r.line(R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"slow"}})");
  r.line(R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"slow"}})");
  auto duplicate = r.read();
  CHECK(duplicate["error"]["code"].GetInt() == jsonrpc::code::invalid_request);
  CHECK(std::string(duplicate["error"]["message"].GetString()).find("already used") !=
        std::string::npos);
  CHECK(r.http.count() == before + 1);
}

TEST_CASE("a request past --timeout is answered with an error and cancelled upstream", "[router]") {
  Router r(50);
  r.handshake();
  r.line(R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"slow"}})");
  auto call = r.http.last();
  r.settle(120);
  auto timed_out = r.read();
  CHECK(json::to_string(timed_out["id"]) == "9");
  CHECK(timed_out["error"]["code"].GetInt() == jsonrpc::code::request_timeout);
  CHECK(r.http.at(call).cancelled);
  auto& cancel = r.last_post();
  CHECK(cancel.request.body.find("notifications/cancelled") != std::string::npos);
  CHECK(cancel.request.body.find(R"("requestId":9)") != std::string::npos);
}

TEST_CASE("a tool the remote serves only with credentials fails as a tool result", "[router]") {
  Router r;
  r.handshake();
  r.line(R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"create_report"}})");
  r.http.answer(r.http.last(), 401, "application/json", R"({"error":"invalid_token"})",
                {{"WWW-Authenticate", "Bearer"}});
  auto answer = r.read();
  CHECK(json::to_string(answer["id"]) == "3");
  CHECK(answer["result"]["isError"].GetBool());
  CHECK(std::string(answer["result"]["content"][0]["text"].GetString()).find("sign in first") !=
        std::string::npos);
}

TEST_CASE("stdin closed: what is in flight is answered, then the session ends", "[router]") {
  Router r;
  r.handshake();
  r.line(R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"slow"}})");
  r.bridge->on_eof();
  r.settle(500);  // the grace period, then shutdown
  auto answer = r.read();
  CHECK(json::to_string(answer["id"]) == "4");
  CHECK(std::string(answer["error"]["message"].GetString()).find("exiting") != std::string::npos);
  auto& del = r.http.at(r.http.last());
  CHECK(del.request.method == "DELETE");
  CHECK(del.header("Mcp-Session-Id") == "s1");
  r.http.answer(r.http.last(), 200, "", "");
  r.settle(50);
  CHECK(r.finished);
}

TEST_CASE("a cut 2026-07-28 stream: a tool annotated idempotent is called again, others not",
          "[router][stateless]") {
  Router r(0, era::Pin::auto_detect);
  r.modern_handshake();
  r.line(R"({"jsonrpc":"2.0","id":"l","method":"tools/list"})");
  r.http.answer(
      r.http.last(), 200, "application/json",
      R"({"jsonrpc":"2.0","id":"l","result":{"tools":[)"
      R"({"name":"get_weather","annotations":{"readOnlyHint":true},"inputSchema":{"type":"object"}},)"
      R"({"name":"tag_photo","annotations":{"idempotentHint":true},"inputSchema":{"type":"object"}},)"
      R"({"name":"send_mail","inputSchema":{"type":"object"}}]}})");
  CHECK(r.read()["result"]["tools"].Size() == 3);
  auto cut = [&r] {
    auto post = r.http.last();
    r.http.head(post, 200, "text/event-stream");
    r.http.event(post, "", "e1");
    transport::HttpDone d;
    d.ok = false;
    d.error = "Connection reset by peer";
    r.http.end(post, std::move(d));
    r.settle();
    return post;
  };
  for (const std::string tool : {"get_weather", "tag_photo"}) {
    INFO(tool);
    r.line(R"({"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":")" + tool +
           R"(","arguments":{}}})");
    auto first = cut();
    auto& again = r.last_post();
    REQUIRE(r.http.last() == first + 1);
    CHECK_FALSE(again.header("Last-Event-ID"));
    auto wire_id = json::to_string(json::parse_or_null(again.request.body)["id"]);
    CHECK(wire_id != "\"c1\"");
    r.http.answer(r.http.last(), 200, "application/json",
                  R"({"jsonrpc":"2.0","id":)" + wire_id + R"(,"result":{"content":[]}})");
    auto answer = r.read();
    CHECK(json::to_string(answer["id"]) == "\"c1\"");  // the client's own id
    CHECK(answer.HasMember("result"));
  }
  r.line(
      R"({"jsonrpc":"2.0","id":"c2","method":"tools/call","params":{"name":"send_mail","arguments":{}}})");
  auto first = cut();
  CHECK(r.http.last() == first);  // not sent again
  auto failed = r.read();
  CHECK(json::to_string(failed["id"]) == "\"c2\"");
  CHECK(std::string(failed["error"]["message"].GetString()).find("may or may not have run") !=
        std::string::npos);
}
