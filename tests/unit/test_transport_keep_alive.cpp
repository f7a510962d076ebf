// --ping-interval against a scripted remote: a quiet session is pinged in it, the ping's
// answer stays in the bridge, and a busy session, one not yet open, or the default are never
// pinged.

#include "tests/unit/fake_http_transport.hpp"

#include <catch2/catch.hpp>

using claribi::test::RemoteHarness;
using claribi::transport::TransportKind;

namespace {

constexpr long k_interval_ms = 40;
constexpr const char* k_call =
    R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow"}})";

/// The POSTs of pings among the transfers, in order.
std::vector<claribi::test::FakeTransfer*> pings(RemoteHarness& h) {
  std::vector<claribi::test::FakeTransfer*> out;
  for (std::size_t i = 1; i <= h.http.count(); ++i) {
    auto& t = h.http.at(i);
    if (t.request.body.find(R"("method":"ping")") != std::string::npos) out.push_back(&t);
  }
  return out;
}

/// Runs the io context until `n` pings went out (true), or a second passed.
bool until_pings(RemoteHarness& h, std::size_t n) {
  for (int i = 0; i < 100 && pings(h).size() < n; ++i) h.settle(10);
  return pings(h).size() == n;
}

}  // namespace

TEST_CASE("a quiet session is pinged in the session; the answer stays in the bridge",
          "[remote][keepalive]") {
  RemoteHarness h(TransportKind::streamable_http, k_interval_ms);
  h.open_session("s1");
  auto before = h.messages.size();
  REQUIRE(until_pings(h, 1));
  auto sent = pings(h);
  CHECK(sent[0]->header("Mcp-Session-Id") == "s1");
  CHECK(sent[0]->request.body.find(R"("id":"claribi-bridge-ping-)") != std::string::npos);
  auto id = claribi::json::to_string(
      *claribi::json::member(claribi::json::parse_or_null(sent[0]->request.body), "id"));
  h.http.answer(h.http.last(), 200, "application/json",
                R"({"jsonrpc":"2.0","id":)" + id + R"(,"result":{}})");
  CHECK(h.messages.size() == before);  // never shown to the client
  CHECK(h.failures.empty());
  CHECK(until_pings(h, 2));  // and again while it stays quiet
}

TEST_CASE("no ping while a request is in flight, before the session, or by default",
          "[remote][keepalive]") {
  SECTION("in flight") {
    RemoteHarness h(TransportKind::streamable_http, k_interval_ms);
    h.open_session("s1");
    h.send(k_call);
    auto call = h.http.last();
    h.settle(3 * k_interval_ms);
    CHECK(pings(h).empty());
    h.http.answer(call, 200, "application/json", R"({"jsonrpc":"2.0","id":2,"result":{}})");
    CHECK(until_pings(h, 1));  // quiet again
  }
  SECTION("before an initialize was answered") {
    RemoteHarness h(TransportKind::streamable_http, k_interval_ms);
    h.send(RemoteHarness::k_initialize);
    h.settle(3 * k_interval_ms);
    CHECK(pings(h).empty());
  }
  SECTION("without --ping-interval") {
    RemoteHarness h;
    h.open_session("s1");
    h.settle(3 * k_interval_ms);
    CHECK(pings(h).empty());
  }
}

TEST_CASE("a ping left unanswered is dropped when the next one is due", "[remote][keepalive]") {
  RemoteHarness h(TransportKind::streamable_http, k_interval_ms);
  h.open_session("s1");
  REQUIRE(until_pings(h, 1));
  auto first = h.http.last();
  REQUIRE(until_pings(h, 2));
  CHECK(h.http.at(first).cancelled);
  CHECK(h.failures.empty());
}
