#include "daemon/tool_layer.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace claribi;
using namespace claribi::daemon;

TEST_CASE("globs: * and ?, whole name, case-insensitive") {
  CHECK(glob_match("*", ""));
  CHECK(glob_match("*", "anything"));
  CHECK(glob_match("get_*", "get_report"));
  CHECK(glob_match("GET_*", "get_report"));
  CHECK_FALSE(glob_match("get_*", "forget_report"));
  CHECK(glob_match("*_report", "generate_report"));
  CHECK(glob_match("*data*", "list_data_sources"));
  CHECK(glob_match("get_???", "get_abc"));
  CHECK_FALSE(glob_match("get_???", "get_abcd"));
  CHECK(glob_match("a*b*c", "aXXbYYc"));
  CHECK_FALSE(glob_match("a*b*c", "aXXbYY"));
  CHECK(glob_match("run_analysis", "RUN_ANALYSIS"));
  CHECK_FALSE(glob_match("run", "run_analysis"));
}

TEST_CASE("write verbs are found as words of any naming style") {
  CHECK(write_verb("delete_dashboard") == std::optional<std::string>("delete"));
  CHECK(write_verb("deleteDashboard") == std::optional<std::string>("delete"));
  CHECK(write_verb("dashboard-update") == std::optional<std::string>("update"));
  CHECK(write_verb("issue_refund") == std::optional<std::string>("refund"));
  CHECK(write_verb("SendEmail") == std::optional<std::string>("send"));
  CHECK_FALSE(write_verb("get_charge"));  // starts with a read verb
  CHECK_FALSE(write_verb("list_transfers"));
  CHECK_FALSE(write_verb("address_lookup"));  // "add" is not a word of it
  CHECK_FALSE(write_verb("get_settings"));
  CHECK_FALSE(write_verb("run_analysis"));
  CHECK_FALSE(write_verb(""));
}

namespace {

// The tools clariBI's documentation (seed 002) names; it speaks of 19 but names these 14.
const std::vector<std::string> k_claribi_tools = {"register_account",
                                                  "verify_email",
                                                  "check_pricing",
                                                  "upload_data_source",
                                                  "ingest_url_data_source",
                                                  "request_oauth_integration_url",
                                                  "check_integration_status",
                                                  "list_data_sources",
                                                  "run_analysis",
                                                  "generate_report",
                                                  "get_report",
                                                  "get_usage",
                                                  "get_billing_status",
                                                  "create_checkout_session"};

std::set<std::string> kept(const ToolPolicyOptions& options) {
  ToolPolicy policy(options);
  std::set<std::string> out;
  for (const auto& t : k_claribi_tools) {
    if (!policy.refusal(t)) out.insert(t);
  }
  return out;
}

}  // namespace

TEST_CASE("policy over clariBI's tools: allow, deny, both, read-only") {
  CHECK(kept({}).size() == k_claribi_tools.size());
  CHECK(kept({{"get_*", "list_*"}, {}, false}) == std::set<std::string>{"get_report", "get_usage",
                                                                        "get_billing_status",
                                                                        "list_data_sources"});
  CHECK(kept({{}, {"*billing*", "*checkout*", "register_*"}, false}).size() ==
        k_claribi_tools.size() - 3);
  // Deny wins over allow.
  CHECK(kept({{"get_*"}, {"get_billing_*"}, false}) ==
        std::set<std::string>{"get_report", "get_usage"});
  // Read-only keeps what reads; hides signup, uploads, ingestion, report generation and
  // checkout. verify_email finishes a signup that register_account (hidden) would start.
  CHECK(kept({{}, {}, true}) ==
        std::set<std::string>{"verify_email", "check_pricing", "request_oauth_integration_url",
                              "check_integration_status", "list_data_sources", "run_analysis",
                              "get_report", "get_usage", "get_billing_status"});
  ToolPolicy ro({{}, {}, true});
  CHECK(ro.refusal("create_checkout_session").value().find("--read-only") != std::string::npos);
  CHECK(ro.refusal("create_checkout_session").value().find("'create'") != std::string::npos);
  ToolPolicy deny({{}, {"*BILLING*"}, false});
  CHECK(deny.refusal("get_billing_status").value() == "blocked by --deny-tool '*BILLING*'");
  ToolPolicy allow({{"get_*"}, {}, false});
  CHECK(allow.refusal("run_analysis").value().find("--allow-tool") != std::string::npos);
}

TEST_CASE("the tool layer hides tools in tools/list answers and refuses their calls") {
  ToolLayer layer(ToolPolicy({{}, {"get_usage"}, true}));
  auto list = jsonrpc::parse(
      R"({"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"get_report","inputSchema":{}},)"
      R"({"name":"get_usage"},{"name":"create_checkout_session"},{"name":"run_analysis"}],)"
      R"("nextCursor":"c2"}})");
  REQUIRE(list);
  CHECK(layer.rewrite_response("tools/list", *list));
  CHECK(list->raw ==
        R"({"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"get_report","inputSchema":{}},)"
        R"({"name":"run_analysis"}],"nextCursor":"c2"}})");
  auto other =
      jsonrpc::parse(R"({"jsonrpc":"2.0","id":4,"result":{"tools":[{"name":"get_usage"}]}})");
  CHECK_FALSE(layer.rewrite_response("prompts/list", *other));

  auto call = jsonrpc::parse(
      R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get_usage","arguments":{}}})");
  auto refused = layer.prepare_request(*call);
  REQUIRE(refused.outcome == PreparedRequest::Outcome::rpc_error);
  CHECK(refused.message.find("get_usage") != std::string::npos);
  auto fine = jsonrpc::parse(
      R"({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"get_report"}})");
  CHECK(layer.prepare_request(*fine).outcome == PreparedRequest::Outcome::forward);

  ToolLayer open;  // no policy: answers pass untouched
  auto again =
      jsonrpc::parse(R"({"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"delete_x"}]}})");
  CHECK_FALSE(open.rewrite_response("tools/list", *again));
}

TEST_CASE("a *_path argument of a tool never listed needs its schema; hints mark idempotence") {
  ToolLayer layer;
  auto call = [](const char* name, const char* args) {
    auto m = jsonrpc::parse(
        std::string(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":")") + name +
        R"(","arguments":)" + args + "}}");
    REQUIRE(m);
    return std::move(*m);
  };
  CHECK(layer.needs_schema(call("upload", R"({"data_path":"/tmp/a.csv"})")));
  CHECK_FALSE(layer.needs_schema(call("upload", R"({"data_base64":"YQ=="})")));
  CHECK_FALSE(layer.needs_schema(call("upload", R"({"_path":"x"})")));
  auto list = jsonrpc::parse(
      R"({"jsonrpc":"2.0","id":2,"result":{"tools":[)"
      R"({"name":"upload","inputSchema":{"type":"object","properties":{"data_base64":{"type":"string"}}}},)"
      R"({"name":"get_report","annotations":{"readOnlyHint":true},"inputSchema":{"type":"object"}},)"
      R"({"name":"retry_safe","annotations":{"idempotentHint":true,"readOnlyHint":false}},)"
      R"({"name":"charge","annotations":{"destructiveHint":true}}]}})");
  REQUIRE(list);
  layer.rewrite_response("tools/list", *list);
  CHECK_FALSE(layer.needs_schema(call("upload", R"({"data_path":"/tmp/a.csv"})")));
  CHECK(layer.needs_schema(call("never_listed", R"({"out_path":"/tmp/a"})")));
  CHECK(layer.is_idempotent_call(call("get_report", "{}")));
  CHECK(layer.is_idempotent_call(call("retry_safe", "{}")));
  CHECK_FALSE(layer.is_idempotent_call(call("charge", "{}")));
  CHECK_FALSE(layer.is_idempotent_call(call("upload", "{}")));
  CHECK_FALSE(layer.is_idempotent_call(call("never_listed", "{}")));
}

// Found by fuzz_tool_layer (tests/fuzz/crashes): a remote's hostile tools/list and a client's
// tools/call without params crashed the bridge.
TEST_CASE("a tools/list entry that is not an object is passed over, not read") {
  ToolLayer layer;
  auto list = jsonrpc::parse(
      R"({"jsonrpc":"2.0","id":2,"result":{"tools":[1,"x",null,[],{"name":"ok","inputSchema":)"
      R"({"type":"object","properties":{"data_base64":{"type":"string"}}}}]}})");
  REQUIRE(list);
  layer.rewrite_response("tools/list", *list);
  CHECK(list->raw.find("data_path") != std::string::npos);
  CHECK(list->raw.find("[1,\"x\",null,[],") != std::string::npos);
}

TEST_CASE("Mcp-Param headers of a tools/call without params or name") {
  ToolLayer layer;
  layer.set_header_params(true);
  auto list = jsonrpc::parse(
      R"({"jsonrpc":"2.0","id":2,"result":{"tools":[{"inputSchema":{"type":"object",)"
      R"("properties":{"region":{"type":"string","x-mcp-header":"Region"}}}}]}})");
  REQUIRE(list);
  layer.rewrite_response("tools/list", *list);
  auto call = jsonrpc::parse(R"({"jsonrpc":"2.0","id":1,"method":"tools/call"})");
  REQUIRE(call);
  CHECK(layer.param_headers(*call).empty());
}

// Found by fuzz_tool_layer (tests/fuzz/crashes): the policy read the first "name", a Node
// server the last.
TEST_CASE("a tools/call naming a parameter or argument twice is refused") {
  ToolPolicyOptions read_only;
  read_only.read_only = true;
  ToolLayer layer{ToolPolicy(read_only)};
  auto twice = jsonrpc::parse(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_report","name":"delete_dashboard"}})");
  REQUIRE(twice);
  auto p = layer.prepare_request(*twice);
  CHECK(p.outcome == PreparedRequest::Outcome::rpc_error);
  CHECK(p.message.find("'name' more than once") != std::string::npos);
  auto args = jsonrpc::parse(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"upload","arguments":{"data_path":"/a","data_path":"/b"}}})");
  REQUIRE(args);
  CHECK(layer.prepare_request(*args).outcome == PreparedRequest::Outcome::rpc_error);
}

// Found by fuzz_tool_layer: a tools/list entry naming itself twice passed read-only as the
// first name while a client reading the last saw create_checkout_session.
TEST_CASE("a tools/list entry that repeats a member is hidden, and its calls are refused") {
  ToolPolicyOptions read_only;
  read_only.read_only = true;
  ToolLayer layer{ToolPolicy(read_only)};
  auto list = jsonrpc::parse(
      R"({"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"get_usage","name":"create_checkout_session"},)"
      R"({"name":"get_report","inputSchema":{},"inputSchema":{}},{"name":"run_analysis"}]}})");
  REQUIRE(list);
  CHECK(layer.rewrite_response("tools/list", *list));
  CHECK(list->raw == R"({"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"run_analysis"}]}})");
  auto call = jsonrpc::parse(
      R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_report"}})");
  REQUIRE(call);
  auto p = layer.prepare_request(*call);
  CHECK(p.outcome == PreparedRequest::Outcome::rpc_error);
  CHECK(p.message.find("'inputSchema' more than once") != std::string::npos);

  ToolLayer open;  // no policy: an ambiguous entry is still no tool to offer
  auto again = jsonrpc::parse(
      R"({"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"a","name":"b"},{"name":"c"}]}})");
  REQUIRE(again);
  CHECK(open.rewrite_response("tools/list", *again));
  CHECK(again->raw == R"({"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"c"}]}})");
}
