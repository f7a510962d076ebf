// The text/event-stream parser the HTTP worker runs over every SSE answer, and each event's
// data as the JSON-RPC body it carries (jsonrpc::parse_body).
//
// Input: byte 0 bounds a second parser's event size (1 to 256 bytes), bytes 1-4 are the
// lengths of the pieces fed (cycled), the rest is the stream.
#include "tests/fuzz/fuzz_input.hpp"
#include "transport/sse_parser.hpp"
#include "util/json.hpp"
#include "util/jsonrpc.hpp"

#include <string>
#include <vector>

using namespace claribi;
using transport::SseEvent;
using transport::SseParser;

namespace {

struct Parsed {
  std::vector<SseEvent> events;
  std::vector<long> retries;
  std::string last_event_id;
  bool ok = true;
};

Parsed parse(std::string_view stream, std::string_view lengths,
             std::size_t max_event_bytes = 64u << 20) {
  Parsed out;
  SseParser parser(SseParser::Sink{[&](SseEvent&& e) { out.events.push_back(std::move(e)); },
                                   [&](long ms) { out.retries.push_back(ms); }},
                   max_event_bytes);
  fuzz::feed_in_pieces(stream, lengths, [&](std::string_view piece) {
    bool fed = parser.feed(piece);
    fuzz::check(fed == !parser.failed(), "feed returns false exactly when the parser failed");
    out.ok = out.ok && fed;
  });
  out.last_event_id = parser.last_event_id();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = fuzz::as_text(data, size);
  std::size_t small_bound = 1 + fuzz::take_byte(in);
  auto lengths = fuzz::take(in, 4);

  auto whole = parse(in, {});
  auto pieces = parse(in, lengths);
  fuzz::check(whole.ok && pieces.ok, "no event of a short stream exceeds 64 MiB");
  fuzz::check(whole.events.size() == pieces.events.size(),
              "the same events wherever the stream is cut");
  for (std::size_t i = 0; i < whole.events.size(); ++i) {
    const auto& w = whole.events[i];
    const auto& p = pieces.events[i];
    fuzz::check(w.type == p.type && w.data == p.data && w.id == p.id,
                "the same events wherever the stream is cut");
    fuzz::check(!w.type.empty(), "an event has a type");
    fuzz::check(w.id.find('\0') == std::string::npos, "an event id holds no NUL");
  }
  fuzz::check(whole.retries == pieces.retries, "the same retry times wherever the stream is cut");
  fuzz::check(whole.last_event_id == pieces.last_event_id,
              "the same last event id wherever the stream is cut");
  for (long ms : whole.retries) fuzz::check(ms >= 0, "retry times are not negative");

  // The bound: a failed parser stays failed and delivers nothing larger than it.
  auto bounded = parse(in, lengths, small_bound);
  for (const auto& e : bounded.events) {
    fuzz::check(e.data.size() <= small_bound, "no event's data exceeds the bound");
  }

  for (const auto& e : whole.events) {
    if (auto body = jsonrpc::parse_body(e.data)) {
      for (const auto& m : *body) {
        fuzz::check(m.doc.IsObject(), "each message is an object");
        json::Document raw;
        fuzz::check(static_cast<bool>(json::parse(raw, m.raw)),
                    "each message of a body keeps a JSON text");
      }
    }
  }
  return 0;
}
