#include "daemon/line_framer.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using claribi::daemon::LineFramer;

namespace {

struct Collected {
  std::vector<std::string> lines;
  std::vector<LineFramer::Oversized> oversized;
};

Collected frame(const std::string& input, std::vector<std::size_t> cuts, std::size_t max = 1024) {
  Collected c;
  LineFramer f(
      LineFramer::Sink{[&](std::string&& l) { c.lines.push_back(std::move(l)); },
                       [&](LineFramer::Oversized&& o) { c.oversized.push_back(std::move(o)); }},
      max);
  std::size_t start = 0;
  cuts.push_back(input.size());
  for (auto cut : cuts) {
    f.feed(std::string_view(input).substr(start, cut - start));
    start = cut;
  }
  f.finish();
  return c;
}

const std::string k_input =
    "\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\n"
    "\n"
    "   \r\n"
    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"
    "{\"s\":\"a\\r\\nb\"}\r\n"
    "{\"last\":true}";

}  // namespace

TEST_CASE("line framer splits lines, drops CR before LF, skips blank lines and a BOM") {
  auto c = frame(k_input, {});
  REQUIRE(c.lines.size() == 4);
  CHECK(c.lines[0] == "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
  CHECK(c.lines[1] == "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
  CHECK(c.lines[2] == "{\"s\":\"a\\r\\nb\"}");
  CHECK(c.lines[3] == "{\"last\":true}");
}

TEST_CASE("line framer gives the same lines at every split point") {
  auto whole = frame(k_input, {});
  for (std::size_t a = 0; a <= k_input.size(); ++a) {
    for (std::size_t b = a; b <= k_input.size(); b += 7) {
      INFO("cuts at " << a << ", " << b);
      auto c = frame(k_input, {a, b});
      CHECK(c.lines == whole.lines);
      CHECK(c.oversized.empty());
    }
  }
}

TEST_CASE("line framer reports an oversized line with its head and tail, then goes on") {
  std::string big = "{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"x\":\"" +
                    std::string(5000, 'a') + "\"},\"id\":42}";
  std::string input = big + "\n{\"next\":1}\n";
  for (std::size_t cut : {std::size_t{0}, std::size_t{10}, std::size_t{1024}, std::size_t{1025},
                          big.size(), big.size() + 1}) {
    auto c = frame(input, {cut}, 1024);
    REQUIRE(c.oversized.size() == 1);
    CHECK(c.oversized[0].size == big.size());
    CHECK(c.oversized[0].head.substr(0, 10) == big.substr(0, 10));
    CHECK(c.oversized[0].tail.size() <= big.size());
    CHECK(big.substr(big.size() - c.oversized[0].tail.size()) == c.oversized[0].tail);
    REQUIRE(c.lines == std::vector<std::string>{"{\"next\":1}"});
  }
}

TEST_CASE("line framer delivers a line exactly at the limit") {
  std::string line(100, 'x');
  auto c = frame(line + "\n", {}, 100);
  CHECK(c.lines.size() == 1);
  CHECK(c.oversized.empty());
  auto d = frame(line + "x\n", {}, 100);
  CHECK(d.lines.empty());
  CHECK(d.oversized.size() == 1);
}
