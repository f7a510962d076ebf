#include "transport/sse_parser.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using claribi::transport::SseEvent;
using claribi::transport::SseParser;

namespace {

struct Collected {
  std::vector<SseEvent> events;
  std::vector<long> retries;
};

Collected parse_in_pieces(const std::string& input, std::vector<std::size_t> cuts) {
  Collected c;
  SseParser p(SseParser::Sink{[&](SseEvent&& e) { c.events.push_back(std::move(e)); },
                              [&](long ms) { c.retries.push_back(ms); }});
  std::size_t start = 0;
  cuts.push_back(input.size());
  for (auto cut : cuts) {
    REQUIRE(p.feed(std::string_view(input).substr(start, cut - start)));
    start = cut;
  }
  return c;
}

void require_same(const Collected& a, const Collected& b) {
  REQUIRE(a.events.size() == b.events.size());
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    CHECK(a.events[i].type == b.events[i].type);
    CHECK(a.events[i].data == b.events[i].data);
    CHECK(a.events[i].id == b.events[i].id);
  }
  CHECK(a.retries == b.retries);
}

// CR, LF and CRLF line ends, a comment, multi-line data, id, retry, a custom event type,
// an event without data (not dispatched), an id with NUL (ignored), and a leading BOM.
const char k_stream_bytes[] =
    "\xEF\xBB\xBF: keep-alive comment\r\n"
    "retry: 2500\n"
    "id: 1\r"
    "data: {\"a\":1}\r\n"
    "\r\n"
    "event: endpoint\n"
    "data: /messages?session=x\n"
    "\n"
    "id: 2\n"
    "data: line one\r"
    "data:line two\n"
    "data\n"
    "\r"
    "id: 3\n"
    "event: nothing\n"
    "\n"
    "id: bad\0id\n"
    "retry: 12x\n"
    "data: {\"b\":2}\n"
    "\n"
    "data: unterminated";
const std::string k_stream(k_stream_bytes, sizeof k_stream_bytes - 1);

}  // namespace

TEST_CASE("SSE parser reads the reference stream") {
  const std::string& stream = k_stream;
  auto c = parse_in_pieces(stream, {});
  REQUIRE(c.events.size() == 4);
  CHECK(c.events[0].data == "{\"a\":1}");
  CHECK(c.events[0].id == "1");
  CHECK(c.events[0].type == "message");
  CHECK(c.events[1].type == "endpoint");
  CHECK(c.events[1].data == "/messages?session=x");
  CHECK(c.events[2].data == "line one\nline two\n");
  CHECK(c.events[2].id == "2");
  CHECK(c.events[3].data == "{\"b\":2}");
  CHECK(c.events[3].id == "3");  // "bad\0id" was ignored
  CHECK(c.retries == std::vector<long>{2500});
}

TEST_CASE("SSE parser gives the same events at every split point") {
  const std::string& stream = k_stream;
  auto whole = parse_in_pieces(stream, {});
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    INFO("cut at " << cut);
    require_same(whole, parse_in_pieces(stream, {cut}));
  }
  for (std::size_t a = 0; a <= stream.size(); a += 3) {
    for (std::size_t b = a; b <= stream.size(); b += 5) {
      INFO("cuts at " << a << ", " << b);
      require_same(whole, parse_in_pieces(stream, {a, b}));
    }
  }
}

TEST_CASE("SSE parser byte by byte") {
  const std::string& stream = k_stream;
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
  require_same(parse_in_pieces(stream, {}), parse_in_pieces(stream, cuts));
}

TEST_CASE("SSE parser treats a lone CR then LF in the next chunk as one line end") {
  auto c = parse_in_pieces("data: x\r\n\r\ndata: y\r\n\r\n", {8, 9, 10, 11});
  REQUIRE(c.events.size() == 2);
  CHECK(c.events[1].data == "y");
}

TEST_CASE("SSE parser keeps the last event id across events and honours an empty id") {
  auto c = parse_in_pieces("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n", {});
  REQUIRE(c.events.size() == 3);
  CHECK(c.events[0].id == "7");
  CHECK(c.events[1].id == "7");
  CHECK(c.events[2].id.empty());
}

TEST_CASE("SSE parser fails an event larger than its bound") {
  SseParser p(SseParser::Sink{[](SseEvent&&) {}, [](long) {}}, 16);
  CHECK(p.feed("data: 0123456789\n"));
  CHECK_FALSE(p.feed("data: 0123456789\n"));
  CHECK(p.failed());
  CHECK_FALSE(p.feed("\n"));
}

TEST_CASE("SSE parser without BOM keeps a first byte that only starts like one") {
  auto c = parse_in_pieces(
      "\xEF"
      "data: x\n\n",
      {1});
  REQUIRE(c.events.empty());  // the first line is the field "\xEFdata", not "data"
  auto d = parse_in_pieces("data: x\n\n", {0});
  REQUIRE(d.events.size() == 1);
}
