// What an answer to server/discover says of the remote's era (a table of answers and
// verdicts), and the probe through Remote against a scripted remote.

#include "transport/discover.hpp"

#include "tests/unit/fake_http_transport.hpp"
#include "util/json.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using claribi::test::RemoteHarness;
using claribi::transport::discover_verdict;
using claribi::transport::DiscoverVerdict;
using Kind = DiscoverVerdict::Kind;

namespace {

struct Row {
  long status;
  const char* response;  ///< the JSON-RPC response in the body, or null for none
  int attempt;
  Kind kind;
};

DiscoverVerdict judge(const Row& row) {
  if (row.response == nullptr) return discover_verdict(row.status, nullptr, row.attempt);
  auto doc = claribi::json::parse_or_null(row.response);
  return discover_verdict(row.status, &doc, row.attempt);
}

constexpr const char* k_modern =
    R"({"jsonrpc":"2.0","id":"d","result":{"supportedVersions":["2025-11-25","2026-07-28"]}})";
constexpr const char* k_other_result =
    R"({"jsonrpc":"2.0","id":"d","result":{"supportedVersions":["2025-11-25"]}})";
constexpr const char* k_unsupported_ours =
    R"({"jsonrpc":"2.0","id":"d","error":{"code":-32022,"message":"unsupported","data":{"supported":["2026-07-28"]}}})";
constexpr const char* k_unsupported_later =
    R"({"jsonrpc":"2.0","id":"d","error":{"code":-32022,"message":"unsupported","data":{"supported":["2027-03-01","2025-11-25"]}}})";
constexpr const char* k_unsupported_2025 =
    R"({"jsonrpc":"2.0","id":"d","error":{"code":-32022,"message":"unsupported","data":{"supported":["2025-06-18"]}}})";
constexpr const char* k_header_mismatch =
    R"({"jsonrpc":"2.0","id":"d","error":{"code":-32020,"message":"Mcp-Method does not match"}})";
constexpr const char* k_unsupported_bare =
    R"({"jsonrpc":"2.0","id":"d","error":{"code":-32022,"message":"unsupported"}})";
constexpr const char* k_method_not_found =
    R"({"jsonrpc":"2.0","id":"d","error":{"code":-32601,"message":"Method not found"}})";

}  // namespace

TEST_CASE("the discover verdict on each kind of answer", "[discover]") {
  const std::vector<Row> table = {
      // A 2xx response: its result or its error decides.
      {200, k_modern, 0, Kind::modern},
      {200, k_modern, 1, Kind::modern},
      {200, k_other_result, 0, Kind::legacy},
      {200, R"({"jsonrpc":"2.0","id":"d","result":{}})", 0, Kind::legacy},
      {200, R"({"jsonrpc":"2.0","id":"d","result":{"supportedVersions":"2026-07-28"}})", 0,
       Kind::legacy},
      {200, k_method_not_found, 0, Kind::legacy},
      {200, k_unsupported_ours, 0, Kind::ask_again},
      {200, k_unsupported_ours, 1, Kind::unsupported},
      {200, k_unsupported_later, 0, Kind::unsupported},
      {200, k_unsupported_2025, 0, Kind::legacy},
      // Refusals for want of credentials: 2025 only assumed, whatever the body.
      {401, nullptr, 0, Kind::assumed_legacy},
      {403, nullptr, 0, Kind::assumed_legacy},
      {401, k_unsupported_ours, 0, Kind::assumed_legacy},
      // Outages are no answer.
      {500, nullptr, 0, Kind::server_failed},
      {503, k_method_not_found, 0, Kind::server_failed},
      // Other 4xx: a 2025 server, unless its error body says otherwise.
      {400, nullptr, 0, Kind::legacy},
      {404, nullptr, 0, Kind::legacy},
      {405, nullptr, 0, Kind::legacy},
      {400, k_method_not_found, 0, Kind::legacy},
      {400, k_unsupported_ours, 0, Kind::ask_again},
      {400, k_unsupported_ours, 1, Kind::unsupported},
      {400, k_unsupported_later, 0, Kind::unsupported},
      // Only a 2xx result counts as modern.
      {400, k_modern, 0, Kind::legacy},
      // Errors only a 2026-07-28 server gives: modern, whatever the status; the probe is
      // fixed and sent again once, then the bridge gives up rather than speak 2025.
      {400, k_header_mismatch, 0, Kind::ask_again},
      {200, k_header_mismatch, 0, Kind::ask_again},
      {400, k_header_mismatch, 1, Kind::unsupported},
      {400, k_unsupported_bare, 0, Kind::ask_again},
      {400, k_unsupported_bare, 1, Kind::unsupported},
  };
  for (const auto& row : table) {
    INFO("HTTP " << row.status << " attempt " << row.attempt << ": "
                 << (row.response ? row.response : "(no response)"));
    CHECK(judge(row).kind == row.kind);
  }
}

TEST_CASE("the discover verdict says why, in words", "[discover]") {
  CHECK(judge({200, k_unsupported_later, 0, Kind::unsupported}).note ==
        "the remote speaks MCP 2027-03-01; this bridge speaks 2026-07-28 and the 2025 revisions");
  CHECK(judge({200, k_unsupported_ours, 1, Kind::unsupported}).note ==
        "the remote speaks MCP 2026-07-28 but refused it twice; this bridge speaks 2026-07-28 and "
        "the 2025 revisions");
  CHECK(judge({403, nullptr, 0, Kind::assumed_legacy}).note ==
        "the remote wants credentials for server/discover (HTTP 403); assuming a 2025 server "
        "until there are some");
  CHECK(judge({404, nullptr, 0, Kind::legacy}).note ==
        "the remote refused server/discover (HTTP 404): a 2025 server");
  auto error = judge({400, k_method_not_found, 0, Kind::legacy}).note;
  CHECK(error.find("an error ({\"code\":-32601,\"message\":\"Method not found\"})") !=
        std::string::npos);
}

namespace {

struct Probe {
  RemoteHarness h{claribi::transport::TransportKind::auto_detect};
  std::optional<claribi::Result<claribi::transport::Discovery>> outcome;

  void start() {
    h.remote->discover(
        R"({"io.modelcontextprotocol/protocolVersion":"2026-07-28"})",
        [this](claribi::Result<claribi::transport::Discovery> d) { outcome = std::move(d); });
  }
  std::string last_id() {
    auto doc = claribi::json::parse_or_null(h.http.at(h.http.last()).request.body);
    return claribi::json::to_string(*claribi::json::member(doc, "id"));
  }
};

}  // namespace

TEST_CASE("the probe asks once more after an unsupported-version error naming 2026-07-28",
          "[discover][remote]") {
  Probe p;
  p.start();
  auto& first = p.h.http.at(p.h.http.last());
  CHECK(first.header("Mcp-Method") == "server/discover");
  CHECK(first.header("MCP-Protocol-Version") == "2026-07-28");
  CHECK_FALSE(first.header("Mcp-Session-Id"));
  CHECK(p.last_id() == R"("claribi-bridge-discover-1")");
  p.h.http.answer(p.h.http.last(), 400, "application/json", k_unsupported_ours);
  REQUIRE_FALSE(p.outcome);
  CHECK(p.last_id() == R"("claribi-bridge-discover-2")");
  std::string modern = k_modern;
  modern.replace(modern.find("\"d\""), 3, R"("claribi-bridge-discover-2")");
  p.h.http.answer(p.h.http.last(), 200, "application/json", modern);
  REQUIRE(p.outcome);
  REQUIRE(*p.outcome);
  CHECK((*p.outcome)->modern);
  CHECK_FALSE((*p.outcome)->assumed);
  CHECK((*p.outcome)->answer.raw == modern);
  CHECK(p.h.messages.empty());  // the bridge's own answer never reaches the client
}

TEST_CASE("a probe refused with 401 assumes a 2025 server without a login", "[discover][remote]") {
  Probe p;
  p.start();
  p.h.http.answer(p.h.http.last(), 401, "application/json", "{}",
                  {{"WWW-Authenticate", "Bearer realm=\"x\""}});
  REQUIRE(p.outcome);
  REQUIRE(*p.outcome);
  CHECK_FALSE((*p.outcome)->modern);
  CHECK((*p.outcome)->assumed);
  CHECK(p.h.failures.empty());
}

TEST_CASE("a probe answered 503 is an outage naming the remote", "[discover][remote]") {
  Probe p;
  p.start();
  p.h.http.answer(p.h.http.last(), 503, "text/plain", "busy");
  REQUIRE(p.outcome);
  REQUIRE_FALSE(*p.outcome);
  CHECK(p.outcome->error().message ==
        "HTTP 503 from http://127.0.0.1:8123/mcp to server/discover: the remote failed; try "
        "again later");
}

TEST_CASE("a probe refused as HeaderMismatch is sent again with headers from its body",
          "[discover][remote]") {
  Probe p;
  p.start();
  p.h.http.answer(p.h.http.last(), 400, "application/json", k_header_mismatch);
  REQUIRE_FALSE(p.outcome);  // not a 2025 server: no verdict yet
  auto& again = p.h.http.at(p.h.http.last());
  REQUIRE(p.h.http.last() == 2);
  CHECK(p.last_id() == R"("claribi-bridge-discover-2")");
  auto body = claribi::json::parse_or_null(again.request.body);
  CHECK(again.header("MCP-Protocol-Version") ==
        std::string(claribi::json::string_or_empty(claribi::json::member(
            body["params"]["_meta"], "io.modelcontextprotocol/protocolVersion"))));
  CHECK(again.header("Mcp-Method") ==
        std::string(claribi::json::string_or_empty(claribi::json::member(body, "method"))));
  // Refused the same way again: an error to report, never a fallback to initialize.
  p.h.http.answer(p.h.http.last(), 400, "application/json", k_header_mismatch);
  REQUIRE(p.outcome);
  REQUIRE_FALSE(*p.outcome);
  CHECK(p.outcome->error().message.find("HeaderMismatch") != std::string::npos);
  CHECK(p.h.http.last() == 2);
}
