// input_required in both directions, against a fake client link and a real request table.
#include <catch2/catch.hpp>

#include "daemon/input_broker.hpp"
#include "tests/unit/fake_links.hpp"
#include "transport/modern.hpp"

using namespace claribi;
using namespace claribi::daemon;
using test::message;

namespace {

struct Broker {
  asio::io_context io;
  test::FakeLinks links;
  RequestTable table{io, 0, [](const std::string&) {}};
  std::string caps = R"({"elicitation":{},"roots":{}})";
  InputBroker broker{io, links, table, [this] { return caps; }};

  /// A 2025 client's tools/call "5", as sent to a 2026-07-28 remote.
  void call_in_flight() {
    Pending p;
    p.method = "tools/call";
    p.raw = R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"t"}})";
    table.add("5", std::move(p));
  }
  static json::Document input_required(const std::string& requests) {
    return json::parse_or_null(R"({"resultType":"input_required","requestState":"s1",
        "inputRequests":)" + requests +
                               "}");
  }
};

}  // namespace

TEST_CASE("a 2026 remote's questions go to a 2025 client, and the call is retried with answers",
          "[daemon]") {
  Broker b;
  b.call_in_flight();
  b.broker.start_round(
      "5",
      Broker::input_required(R"({"ok":{"method":"elicitation/create","params":{"message":"?"}}})"));
  REQUIRE(b.links.client.size() == 1);
  auto question = b.links.last_client();
  CHECK(std::string(question["method"].GetString()) == "elicitation/create");
  auto qid = json::to_string(question["id"]);
  CHECK(InputBroker::is_question_id(qid));
  CHECK(b.links.remote.empty());

  b.broker.on_answer(
      message(R"({"jsonrpc":"2.0","id":)" + qid + R"(,"result":{"action":"accept"}})"));
  REQUIRE(b.links.remote.size() == 1);
  const auto& retry = b.links.remote[0];
  CHECK(retry.method == "tools/call");
  CHECK(retry.id != "5");
  CHECK(json::to_string(retry.doc["params"]["inputResponses"]["ok"]) == R"({"action":"accept"})");
  CHECK(std::string(retry.doc["params"]["requestState"].GetString()) == "s1");
  // The answer to the retry is renamed back to the client's id.
  CHECK(b.table.take_alias(retry.id) == std::optional<std::string>("5"));
}

TEST_CASE("a question the client cannot answer fails the call with the capability named",
          "[daemon]") {
  Broker b;
  b.caps = "{}";
  b.call_in_flight();
  b.broker.start_round("5", Broker::input_required(R"({"s":{"method":"sampling/createMessage"}})"));
  CHECK(b.links.dropped == std::vector<std::string>{"5"});
  auto error = b.links.last_client();
  CHECK(error["error"]["code"].GetInt() == transport::modern::k_missing_client_capability);
  CHECK(std::string(error["error"]["message"].GetString()).find("'sampling'") != std::string::npos);
}

TEST_CASE("an error answer from the client ends the round", "[daemon]") {
  Broker b;
  b.call_in_flight();
  b.broker.start_round("5", Broker::input_required(R"({"r":{"method":"roots/list"}})"));
  auto qid = json::to_string(b.links.last_client()["id"]);
  b.broker.on_answer(
      message(R"({"jsonrpc":"2.0","id":)" + qid + R"(,"error":{"code":-1,"message":"no"}})"));
  CHECK(b.links.remote.empty());
  CHECK(b.links.dropped == std::vector<std::string>{"5"});
  // A late second answer to the same question is ignored.
  b.broker.on_answer(message(R"({"jsonrpc":"2.0","id":)" + qid + R"(,"result":{}})"));
  CHECK(b.links.remote.empty());
}

TEST_CASE("after ten rounds for one request the bridge gives up", "[daemon]") {
  Broker b;
  b.call_in_flight();
  for (int i = 0; i < 11; ++i) {
    b.broker.start_round("5", Broker::input_required("{}"));  // only state: retried at once
  }
  CHECK(b.links.remote.size() == 10);
  CHECK(b.links.dropped == std::vector<std::string>{"5"});
  CHECK(std::string(b.links.last_client()["error"]["message"].GetString()).find("10 times") !=
        std::string::npos);
}

TEST_CASE("a 2025 server's question mid-call is put to a 2026 client as input_required",
          "[daemon]") {
  Broker b;
  Pending p;
  p.method = "tools/call";
  b.table.add("9", std::move(p));
  b.broker.suspend_call(
      message(
          R"({"jsonrpc":"2.0","id":"s-1","method":"elicitation/create","params":{"message":"?"}})"),
      "9");
  CHECK_FALSE(b.table.has("9"));  // set aside until the retry
  auto answer = b.links.last_client();
  CHECK(json::to_string(answer["id"]) == "9");
  CHECK(std::string(answer["result"]["resultType"].GetString()) == "input_required");
  std::string state = answer["result"]["requestState"].GetString();
  CHECK(state.rfind("claribi-bridge-state-", 0) == 0);
  auto key = std::string(answer["result"]["inputRequests"].MemberBegin()->name.GetString());

  // The call's own answer arrives before the retry: kept for it.
  CHECK(b.broker.keep_final_answer("9", R"({"jsonrpc":"2.0","id":9,"result":{"content":[]}})"));

  auto retry = message(R"({"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"t",
      "requestState":")" +
                       state + R"(","inputResponses":{")" + key + R"(":{"action":"accept"}}}})");
  CHECK(b.broker.resume_call(retry));
  REQUIRE(b.links.remote.size() == 1);  // the server's question answered
  CHECK(b.links.remote[0].id == "\"s-1\"");
  CHECK(json::to_string(b.links.remote[0].doc["result"]) == R"({"action":"accept"})");
  CHECK(b.table.has("10"));
  CHECK(b.table.client_of("9") == "10");
  REQUIRE(b.links.from_remote_seen.size() == 1);  // the kept answer, delivered to the retry
  CHECK(b.links.from_remote_seen[0].second == "9");

  // The same state cannot resume twice.
  auto again = message(R"({"jsonrpc":"2.0","id":11,"method":"tools/call","params":{
      "requestState":")" +
                       state + R"("}})");
  CHECK(b.broker.resume_call(again));
  CHECK(
      std::string(b.links.last_client()["error"]["message"].GetString()).find("no call waiting") !=
      std::string::npos);
}

TEST_CASE("questions outside a call, or that the client cannot answer, are refused upstream",
          "[daemon]") {
  Broker b;
  b.broker.suspend_call(message(R"({"jsonrpc":"2.0","id":1,"method":"roots/list"})"), "");
  b.broker.suspend_call(message(R"({"jsonrpc":"2.0","id":2,"method":"ping"})"), "");
  b.broker.suspend_call(message(R"({"jsonrpc":"2.0","id":3,"method":"x/unknown"})"), "");
  REQUIRE(b.links.remote.size() == 3);
  CHECK(json::member(b.links.remote[0].doc, "error") != nullptr);
  CHECK(json::to_string(b.links.remote[1].doc["result"]) == "{}");  // a ping is answered
  CHECK(b.links.remote[2].doc["error"]["code"].GetInt() == jsonrpc::code::method_not_found);
  CHECK(b.links.client.empty());
}
