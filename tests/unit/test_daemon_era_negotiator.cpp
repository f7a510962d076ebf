// The era negotiator against a fake client link and a scripted remote: the four pairings of
// a 2025 or 2026-07-28 client with a 2025 or 2026-07-28 remote, the discover cache's ttl,
// and learning the era again after a login.
#include <catch2/catch.hpp>

#include "daemon/era_negotiator.hpp"
#include "tests/unit/fake_links.hpp"
#include "transport/modern.hpp"

#include <thread>

using namespace claribi;
using namespace claribi::daemon;
using test::message;

namespace {

const std::string k_meta = std::string(R"("_meta":{")") +
                           transport::modern::k_meta_protocol_version + R"(":"2026-07-28"})";

struct Era {
  asio::io_context io;
  test::FakeLinks links;
  ToolLayer tools;
  RequestTable table{io, 0, [](const std::string&) {}};
  AuthSession auth{io, AuthOptions{}, AuthPort{}};
  InputBroker broker{io, links, table, [] { return std::string("{}"); }};
  std::vector<std::string> probes;  ///< the meta of each discover
  std::function<void(Result<transport::Discovery>)> answer_probe;
  std::vector<std::string> cancelled;
  int settled = 0;
  std::string authorization;
  std::vector<std::string> abandoned;
  EraNegotiator era{io, era::Pin::auto_detect, peers(), 30};

  EraPeers peers() {
    EraRemote r;
    r.discover = [this](const std::string& meta,
                        std::function<void(Result<transport::Discovery>)> done, bool) {
      probes.push_back(meta);
      answer_probe = std::move(done);
    };
    r.set_authorization = [this](const std::string& a) { authorization = a; };
    r.auth_finished = [](Result<std::string>) {};
    r.hand_back = [](const std::string&) { return std::vector<std::string>(); };
    r.abandon = [this](const std::string& id) { abandoned.push_back(id); };
    return EraPeers{links,
                    std::move(r),
                    auth,
                    tools,
                    table,
                    broker,
                    [this](const jsonrpc::Message& m) { cancelled.push_back(m.raw); },
                    [this] { ++settled; }};
  }

  /// The remote speaks 2026-07-28 (with `ttl_ms`) or a 2025 revision.
  void remote_is(bool modern, int ttl_ms = 60000) {
    transport::Discovery d;
    d.modern = modern;
    if (modern) {
      d.answer = message(R"({"jsonrpc":"2.0","id":1,"result":{"supportedVersions":["2026-07-28"],
          "capabilities":{"tools":{}},"serverInfo":{"name":"s","version":"1"},"ttlMs":)" +
                         std::to_string(ttl_ms) + "}}");
    }
    REQUIRE(answer_probe);
    auto done = std::move(answer_probe);
    done(std::move(d));
  }
  bool pass(const std::string& text) {
    auto m = message(text);
    bool through = era.translate(m);
    if (through) passed.push_back(std::move(m));
    return through;
  }
  std::vector<jsonrpc::Message> passed;
};

const std::string k_initialize =
    R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",
    "capabilities":{"roots":{}},"clientInfo":{"name":"c","version":"1"}}})";

}  // namespace

TEST_CASE("a 2025 client and a 2025 remote: the initialize waits for the probe, then passes",
          "[era]") {
  Era e;
  CHECK_FALSE(e.pass(k_initialize));
  REQUIRE(e.probes.size() == 1);
  CHECK(e.probes[0].find("2026-07-28") != std::string::npos);  // the probe speaks modern
  CHECK_FALSE(e.era.idle());
  e.remote_is(false);
  REQUIRE(e.links.rerouted.size() == 1);  // routed again, now that the era is known
  CHECK(e.links.rerouted[0].method == "initialize");
  CHECK(e.settled == 1);
  CHECK(e.pass(k_initialize));
  CHECK(e.pass(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})"));
  CHECK(e.passed.back().raw == R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  CHECK_FALSE(e.era.rounds_here());
}

TEST_CASE("a 2025 client and a 2026 remote: the session is answered here, requests stamped",
          "[era]") {
  Era e;
  e.pass(k_initialize);
  e.remote_is(true);
  e.links.rerouted.clear();
  CHECK_FALSE(e.pass(k_initialize));
  auto init = e.links.last_client();
  CHECK(std::string(init["result"]["protocolVersion"].GetString()) == "2025-11-25");
  CHECK_FALSE(e.pass(R"({"jsonrpc":"2.0","id":2,"method":"ping"})"));
  CHECK(e.links.client.back() == R"({"jsonrpc":"2.0","id":2,"result":{}})");
  CHECK_FALSE(e.pass(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  CHECK(e.pass(R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"t"}})"));
  CHECK(transport::modern::envelope_version(e.passed.back().doc) == "2026-07-28");
  CHECK(e.era.rounds_here());
  // Cancelling drops the request; nothing goes upstream (closing the stream is the cancel).
  CHECK_FALSE(
      e.pass(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}})"));
  CHECK(e.cancelled.size() == 1);
}

TEST_CASE("a 2026 client and a 2025 remote: the bridge opens the session on its behalf", "[era]") {
  Era e;
  CHECK_FALSE(
      e.pass(R"({"jsonrpc":"2.0","id":"d","method":"server/discover","params":{)" + k_meta + "}}"));
  e.remote_is(false);
  REQUIRE(e.links.rerouted.size() == 1);
  auto again = std::move(e.links.rerouted[0]);
  CHECK_FALSE(e.era.translate(again));  // waits for the session
  REQUIRE(e.links.remote.size() == 1);
  const auto init_id = e.links.remote[0].id;
  CHECK(e.links.remote[0].method == "initialize");
  CHECK(e.era.may_log_in(init_id) == std::optional<bool>(false));  // only a probe waits
  CHECK(e.auth.probe());

  auto opened = message(R"({"jsonrpc":"2.0","id":)" + init_id +
                        R"(,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},
                        "serverInfo":{"name":"old","version":"1"}}})");
  CHECK(e.era.take_remote_message(opened));
  CHECK(e.links.remote.back().method == "notifications/initialized");
  auto discover = e.links.last_client();
  CHECK(json::to_string(discover["id"]) == "\"d\"");
  CHECK(discover["result"].HasMember("supportedVersions"));
  CHECK(e.era.answers_for_modern_client());

  CHECK(e.pass(R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"t",)" + k_meta +
               "}}"));
  CHECK(transport::modern::envelope_version(e.passed.back().doc).empty());  // stripped
  CHECK_FALSE(e.pass(R"({"jsonrpc":"2.0","id":5,"method":"tasks/get","params":{}})"));
  CHECK(e.links.last_client()["error"]["code"].GetInt() == jsonrpc::code::method_not_found);
}

TEST_CASE("a 2026 client and a 2026 remote: the discover answer is cached for its ttl only",
          "[era]") {
  Era e;
  const std::string discover =
      R"({"jsonrpc":"2.0","id":"d1","method":"server/discover","params":{)" + k_meta + "}}";
  CHECK_FALSE(e.pass(discover));
  e.remote_is(true, 30);
  REQUIRE(e.links.rerouted.size() == 1);
  auto first = std::move(e.links.rerouted[0]);
  CHECK_FALSE(e.era.translate(first));  // answered from the probe it caused
  CHECK(e.links.last_client()["result"]["ttlMs"].GetInt() == 30);
  CHECK(e.pass(R"({"jsonrpc":"2.0","id":6,"method":"tools/list","params":{)" + k_meta + "}}"));
  CHECK(e.passed.back().raw.find("tools/list") != std::string::npos);  // its own envelope
  CHECK_FALSE(e.pass(discover));                                       // still fresh
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  CHECK(e.pass(discover));  // stale: the client asks the remote itself
  CHECK(e.probes.size() == 1);
  CHECK_FALSE(e.era.rounds_here());
}

TEST_CASE("a probe refused for want of credentials is asked again after the login", "[era]") {
  Era e;
  e.pass(k_initialize);
  transport::Discovery assumed;
  assumed.assumed = true;
  auto done = std::move(e.answer_probe);
  done(std::move(assumed));
  CHECK_FALSE(e.era.upstream_modern());
  CHECK(e.era.after_login("Bearer at"));
  CHECK(e.authorization == "Bearer at");
  REQUIRE(e.probes.size() == 2);
  e.remote_is(true);
  CHECK(e.era.upstream_modern());
  CHECK_FALSE(e.era.after_login("Bearer at"));  // learnt: a later login changes nothing
}

TEST_CASE("a failed probe answers what waited and lets the next request try again", "[era]") {
  Era e;
  e.pass(k_initialize);
  auto done = std::move(e.answer_probe);
  done(claribi::fail("cannot reach the remote"));
  auto error = e.links.last_client();
  CHECK(json::to_string(error["id"]) == "0");
  CHECK(std::string(error["error"]["message"].GetString()).find("cannot reach") !=
        std::string::npos);
  CHECK(e.era.idle());
  e.pass(k_initialize);
  CHECK(e.probes.size() == 2);
}

TEST_CASE("the bridge's own requests are bounded by --timeout; a late answer is not theirs",
          "[era]") {
  Era e;
  std::vector<std::string> outcomes;
  e.era.ask_remote("tools/list", "{}", [&](Result<jsonrpc::Message> r) {
    outcomes.push_back(r ? "answer" : r.error().message);
  });
  REQUIRE(e.links.remote.size() == 1);
  auto id = e.links.remote[0].id;
  e.era.ask_remote("tools/list", "{}", [&](Result<jsonrpc::Message> r) {
    outcomes.push_back(r ? "answer" : r.error().message);
  });
  auto answered = message(R"({"jsonrpc":"2.0","id":)" + e.links.remote[1].id + R"(,"result":{}})");
  CHECK(e.era.take_remote_message(answered));
  e.io.run_for(std::chrono::milliseconds(100));
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0] == "answer");
  CHECK(outcomes[1].find("did not answer its tools/list within 0.03 s") != std::string::npos);
  CHECK(e.abandoned == std::vector<std::string>{id});
  auto late = message(R"({"jsonrpc":"2.0","id":)" + id + R"(,"result":{}})");
  CHECK_FALSE(e.era.take_remote_message(late));
}

TEST_CASE("trace context in _meta passes the negotiator both ways", "[era][trace]") {
  const std::string trace =
      R"("traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",)"
      R"("tracestate":"v=1","baggage":"k=v")";
  auto traced = [](const jsonrpc::Message& m) {
    const auto& meta = m.doc["params"]["_meta"];
    return meta.HasMember("traceparent") && meta.HasMember("tracestate") &&
           meta.HasMember("baggage");
  };
  {  // A 2025 client, a 2026-07-28 remote: stamped, traced.
    Era e;
    e.pass(k_initialize);
    e.remote_is(true);
    e.pass(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    REQUIRE(
        e.pass(R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"t","_meta":{)" +
               trace + "}}}"));
    CHECK(traced(e.passed.back()));
    CHECK(transport::modern::envelope_version(e.passed.back().doc) == "2026-07-28");
  }
  {  // A 2026-07-28 client, a 2025 remote: stripped, traced; notifications too.
    Era e;
    const std::string meta = std::string(R"("_meta":{")") +
                             transport::modern::k_meta_protocol_version + R"(":"2026-07-28",)" +
                             trace + "}";
    e.pass(R"({"jsonrpc":"2.0","id":"d","method":"server/discover","params":{)" + meta + "}}");
    e.remote_is(false);
    auto again = std::move(e.links.rerouted[0]);
    e.era.translate(again);
    auto opened = message(R"({"jsonrpc":"2.0","id":)" + e.links.remote[0].id +
                          R"(,"result":{"protocolVersion":"2025-11-25","capabilities":{},)"
                          R"("serverInfo":{"name":"old","version":"1"}}})");
    e.era.take_remote_message(opened);
    REQUIRE(e.pass(R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"t",)" + meta +
                   "}}"));
    CHECK(traced(e.passed.back()));
    CHECK(transport::modern::envelope_version(e.passed.back().doc).empty());
    REQUIRE(e.pass(R"({"jsonrpc":"2.0","method":"notifications/progress","params":{)"
                   R"("progressToken":1,"progress":1,"_meta":{)" +
                   trace + "}}}"));
    CHECK(traced(e.passed.back()));
  }
}
