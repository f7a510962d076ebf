// The table of client requests in flight: ids, renames, progress owners, timeouts.
#include <catch2/catch.hpp>

#include "daemon/request_table.hpp"

#include <chrono>

using namespace claribi;
using namespace claribi::daemon;

namespace {

Pending request(const std::string& method, const std::string& token = {}) {
  Pending p;
  p.method = method;
  p.progress_token = token;
  return p;
}

}  // namespace

TEST_CASE("requests are tracked, renamed upstream and renamed back once", "[daemon]") {
  asio::io_context io;
  RequestTable t(io, 0, [](const std::string&) {});
  t.add("1", request("tools/call", "\"tok\""));
  CHECK(t.has("1"));
  CHECK(t.upstream_id_of("1") == "1");
  CHECK(t.progress_owner("\"tok\"") == "1");
  t.rename_upstream("1", "\"retry-1\"");
  CHECK(t.upstream_id_of("1") == "\"retry-1\"");
  CHECK(t.client_of("\"retry-1\"") == "1");
  t.rename_upstream("1", "\"retry-2\"");  // a second round replaces the first alias
  CHECK_FALSE(t.take_alias("\"retry-1\""));
  CHECK(t.take_alias("\"retry-2\"") == std::optional<std::string>("1"));
  CHECK_FALSE(t.take_alias("\"retry-2\""));
  t.forget("1");
  CHECK_FALSE(t.has("1"));
  CHECK(t.progress_owner("\"tok\"").empty());
  CHECK(t.upstream_id_of("1") == "1");
}

TEST_CASE("a request set aside keeps its state and returns under a new id", "[daemon]") {
  asio::io_context io;
  RequestTable t(io, 0, [](const std::string&) {});
  auto& p = t.add("7", request("tools/call", "\"p\""));
  p.uploaded = 42;
  auto taken = t.take("7");
  REQUIRE(taken);
  CHECK_FALSE(t.has("7"));
  CHECK(t.progress_owner("\"p\"").empty());
  CHECK_FALSE(t.take("7"));
  t.add("8", std::move(*taken));
  REQUIRE(t.find("8") != nullptr);
  CHECK(t.find("8")->uploaded == 42);
  CHECK(t.progress_owner("\"p\"") == "8");
}

TEST_CASE("listen streams never time out and do not keep the process busy", "[daemon]") {
  asio::io_context io;
  std::vector<std::string> timed_out;
  RequestTable t(io, 20, [&](const std::string& id) {
    timed_out.push_back(id);
    t.forget(id);
  });
  t.add("1", request("tools/call"));
  t.add("2", request("subscriptions/listen"));
  CHECK_FALSE(t.only_listens());
  io.run_for(std::chrono::milliseconds(100));
  CHECK(timed_out == std::vector<std::string>{"1"});
  CHECK(t.only_listens());
  CHECK(t.size() == 1);
}

TEST_CASE("arming again restarts a timeout; disarming stops it", "[daemon]") {
  asio::io_context io;
  std::vector<std::string> timed_out;
  RequestTable t(io, 60, [&](const std::string& id) {
    timed_out.push_back(id);
    t.forget(id);
  });
  t.add("slow", request("tools/call"));
  t.add("asking", request("tools/call"));
  t.disarm("asking");
  io.run_for(std::chrono::milliseconds(40));
  t.arm("slow");  // progress came
  io.run_for(std::chrono::milliseconds(40));
  CHECK(timed_out.empty());
  io.run_for(std::chrono::milliseconds(60));
  CHECK(timed_out == std::vector<std::string>{"slow"});
  CHECK(t.has("asking"));
}

TEST_CASE("clearing the table names every request once", "[daemon]") {
  asio::io_context io;
  RequestTable t(io, 1000, [](const std::string&) {});
  t.add("a", request("ping"));
  t.add("b", request("tools/list"));
  t.rename_upstream("b", "\"b2\"");
  std::vector<std::string> seen;
  t.clear([&](const std::string& id) { seen.push_back(id); });
  std::sort(seen.begin(), seen.end());
  CHECK(seen == std::vector<std::string>{"a", "b"});
  CHECK(t.size() == 0);
  CHECK_FALSE(t.take_alias("\"b2\""));
  io.run_for(std::chrono::milliseconds(10));  // no timer fires for a cleared request
}
