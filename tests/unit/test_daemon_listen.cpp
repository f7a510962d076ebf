#include "daemon/listen.hpp"

#include "tests/unit/json_doc.hpp"

#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

using claribi::Result;
using claribi::daemon::ListenFilter;
using claribi::daemon::LocalListen;
using claribi::daemon::UpstreamListen;
namespace json = claribi::json;
namespace jsonrpc = claribi::jsonrpc;

using claribi::test::doc;

namespace {

jsonrpc::Message message(const std::string& text) {
  auto m = jsonrpc::parse(std::string(text));
  REQUIRE(m);
  return std::move(*m);
}

std::string sub_meta(const std::string& id) {
  return R"("_meta":{"io.modelcontextprotocol/subscriptionId":)" + id + "}";
}

/// What an UpstreamListen asked of the remote and told the client.
struct Upstream {
  asio::io_context io;
  std::vector<std::pair<std::string, std::string>> opened;  // id, filter
  std::vector<std::string> closed;
  std::vector<std::string> to_client;
  UpstreamListen listen{
      io, UpstreamListen::Hooks{[this](const std::string& id, const std::string& filter) {
                                  opened.emplace_back(id, filter);
                                },
                                [this](const std::string& id) { closed.push_back(id); },
                                [this](std::string&& line) { to_client.push_back(line); }}};

  bool from_remote(const std::string& text) {
    auto m = message(text);
    return listen.on_remote_message(m);
  }
  void ack(const std::string& id, const std::string& honored) {
    CHECK(from_remote(R"({"jsonrpc":"2.0","method":"notifications/subscriptions/acknowledged",)"
                      R"("params":{"notifications":)" +
                      honored + "," + sub_meta(id) + "}}"));
  }
  void tools_changed(const std::string& id) {
    CHECK(from_remote(R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed",)"
                      R"("params":{)" +
                      sub_meta(id) + "}}"));
  }
};

}  // namespace

TEST_CASE("listen filters parse, narrow to capabilities and print", "[listen]") {
  auto n = doc(R"({"toolsListChanged":true,"promptsListChanged":false,
                  "resourceSubscriptions":["res://a","res://b"]})");
  auto f = ListenFilter::parse(&n);
  CHECK(f.tools);
  CHECK_FALSE(f.prompts);
  CHECK(f.uris.size() == 2);
  CHECK(f.to_json() ==
        R"({"toolsListChanged":true,"resourceSubscriptions":["res://a","res://b"]})");
  auto caps = doc(R"({"tools":{"listChanged":true},"resources":{}})");
  auto h = f.honored_by(&caps);
  CHECK(h.tools);
  CHECK(h.uris.empty());  // no resources.subscribe
  CHECK(h.accepts("notifications/tools/list_changed", ""));
  CHECK_FALSE(h.accepts("notifications/resources/updated", "res://a"));
  CHECK(f.accepts("notifications/resources/updated", "res://a"));
  CHECK_FALSE(f.accepts("notifications/resources/updated", "res://c"));
  CHECK(ListenFilter().empty());
}

TEST_CASE("a 2025 client's interest rides one listen stream, replaced without loss or repeat",
          "[listen]") {
  Upstream u;
  auto caps = doc(R"({"tools":{"listChanged":true},"resources":{"subscribe":true}})");
  u.listen.start(&caps);
  REQUIRE(u.opened.size() == 1);
  const auto first = u.opened[0].first;
  CHECK(u.opened[0].second == R"({"toolsListChanged":true})");
  u.ack(first, R"({"toolsListChanged":true})");
  CHECK(u.to_client.empty());  // the acknowledgement is the bridge's, not the client's

  std::vector<std::string> answers;
  u.listen.change("res://a", true,
                  [&](Result<void> r) { answers.push_back(r ? "ok" : r.error().message); });
  REQUIRE(u.opened.size() == 2);
  const auto second = u.opened[1].first;
  CHECK(u.opened[1].second == R"({"toolsListChanged":true,"resourceSubscriptions":["res://a"]})");
  CHECK(u.closed.empty());  // the old stream speaks until the new one is acknowledged
  u.tools_changed(first);
  REQUIRE(u.to_client.size() == 1);
  CHECK(u.to_client[0] == R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})");
  CHECK(answers.empty());

  u.ack(second, R"({"toolsListChanged":true,"resourceSubscriptions":["res://a"]})");
  CHECK(answers == std::vector<std::string>{"ok"});
  CHECK(u.closed == std::vector<std::string>{first});
  u.tools_changed(first);  // a late copy from the old stream: not delivered again
  u.tools_changed(second);
  CHECK(u.to_client.size() == 2);

  // The same subscription again: already so, no new stream.
  u.listen.change("res://a", true, [&](Result<void> r) { answers.push_back(r ? "ok" : "no"); });
  CHECK(u.opened.size() == 2);
  CHECK(answers.size() == 2);

  // A resource the remote will not honour: the client hears why.
  u.listen.change("res://b", true,
                  [&](Result<void> r) { answers.push_back(r ? "ok" : r.error().message); });
  REQUIRE(u.opened.size() == 3);
  u.ack(u.opened[2].first, R"({"toolsListChanged":true,"resourceSubscriptions":["res://a"]})");
  REQUIRE(answers.size() == 3);
  CHECK(answers[2].find("did not accept a subscription to res://b") != std::string::npos);
}

TEST_CASE("a listen stream that ends is reopened; one the remote refuses is not", "[listen]") {
  Upstream u;
  auto caps = doc(R"({"tools":{"listChanged":true}})");
  u.listen.start(&caps);
  const auto first = u.opened.at(0).first;
  u.ack(first, R"({"toolsListChanged":true})");
  CHECK(u.listen.on_failure(first, "the connection dropped"));
  CHECK(u.opened.size() == 1);
  u.io.run_for(std::chrono::milliseconds(1300));  // first backoff: 1 s
  REQUIRE(u.opened.size() == 2);
  CHECK(u.opened[1].second == R"({"toolsListChanged":true})");

  // A graceful end (the listen result) is reopened too; an error answer is final.
  CHECK(u.from_remote(R"({"jsonrpc":"2.0","id":)" + u.opened[1].first +
                      R"(,"error":{"code":-32601,"message":"Method not found"}})"));
  u.io.restart();
  u.io.run_for(std::chrono::milliseconds(2300));
  CHECK(u.opened.size() == 2);
  CHECK_FALSE(u.listen.on_failure("\"unknown\"", "x"));
}

TEST_CASE("a 2026-07-28 client's listen is served by the bridge for a 2025 remote", "[listen]") {
  std::vector<std::string> out;
  std::vector<std::pair<std::string, std::string>> upstream;  // method, uri
  std::vector<std::function<void(Result<void>)>> pending;
  LocalListen local(LocalListen::Hooks{[&](std::string&& line) { out.push_back(line); },
                                       [&](const std::string& method, const std::string& uri,
                                           std::function<void(Result<void>)> done) {
                                         upstream.emplace_back(method, uri);
                                         pending.push_back(std::move(done));
                                       }});
  auto caps = doc(R"({"tools":{"listChanged":true},"resources":{"subscribe":true}})");
  local.set_capabilities(&caps);

  local.listen(message(R"({"jsonrpc":"2.0","id":"listen:1","method":"subscriptions/listen",
      "params":{"notifications":{"toolsListChanged":true,"promptsListChanged":true,
                                 "resourceSubscriptions":["res://a"]}}})"));
  REQUIRE(upstream.size() == 1);
  CHECK(upstream[0] == std::make_pair(std::string("resources/subscribe"), std::string("res://a")));
  CHECK(out.empty());  // acknowledged once the remote took the subscription
  pending[0](Result<void>());
  REQUIRE(out.size() == 1);
  auto ack = doc(out[0]);
  CHECK(std::string(ack["method"].GetString()) == "notifications/subscriptions/acknowledged");
  CHECK(json::to_string(ack["params"]["notifications"]) ==
        R"({"toolsListChanged":true,"resourceSubscriptions":["res://a"]})");
  CHECK(std::string(ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"].GetString()) ==
        "listen:1");

  CHECK(local.on_remote_notification(
      message(R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})")));
  CHECK(local.on_remote_notification(
      message(R"({"jsonrpc":"2.0","method":"notifications/prompts/list_changed"})")));
  CHECK(local.on_remote_notification(message(
      R"({"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"res://b"}})")));
  CHECK_FALSE(local.on_remote_notification(
      message(R"({"jsonrpc":"2.0","method":"notifications/progress","params":{}})")));
  REQUIRE(out.size() == 2);  // prompts were not honoured, res://b not asked for
  auto change = doc(out[1]);
  CHECK(std::string(change["method"].GetString()) == "notifications/tools/list_changed");
  CHECK(std::string(
            change["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"].GetString()) ==
        "listen:1");

  CHECK(local.cancel("\"listen:1\""));
  CHECK(upstream.back() ==
        std::make_pair(std::string("resources/unsubscribe"), std::string("res://a")));
  CHECK(local.on_remote_notification(
      message(R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})")));
  CHECK(out.size() == 2);  // nobody listens any more

  // Nothing the remote can deliver: acknowledged empty, then ended gracefully.
  local.listen(message(R"({"jsonrpc":"2.0","id":7,"method":"subscriptions/listen",
      "params":{"notifications":{"promptsListChanged":true}}})"));
  REQUIRE(out.size() == 4);
  CHECK(json::to_string(doc(out[2])["params"]["notifications"]) == "{}");
  CHECK(std::string(doc(out[3])["result"]["resultType"].GetString()) == "complete");
  CHECK_FALSE(local.cancel("7"));
}
