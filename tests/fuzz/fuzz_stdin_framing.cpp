// stdin as the bridge reads it: LineFramer cuts the byte stream into lines, each line is one
// JSON-RPC message (jsonrpc::parse), an oversized line is answered by the id find_id reads
// from its head and tail. The whole input is also tried as an HTTP body (jsonrpc::parse_body).
//
// Input: byte 0 picks the line limit (high bit set: 4 to 131 bytes, so lines go oversized;
// else 1 MiB), bytes 1-4 are the lengths of the pieces fed (cycled), the rest is the stream.
#include "daemon/line_framer.hpp"
#include "tests/fuzz/fuzz_input.hpp"
#include "util/json.hpp"
#include "util/jsonrpc.hpp"

#include <cstdio>
#include <string>
#include <vector>

using namespace claribi;
using daemon::LineFramer;

namespace {

struct Framed {
  std::vector<std::string> lines;
  std::vector<LineFramer::Oversized> oversized;
};

Framed frame(std::string_view stream, std::string_view lengths, std::size_t max_line) {
  Framed out;
  LineFramer framer(
      LineFramer::Sink{[&](std::string&& l) { out.lines.push_back(std::move(l)); },
                       [&](LineFramer::Oversized&& o) { out.oversized.push_back(std::move(o)); }},
      max_line);
  fuzz::feed_in_pieces(stream, lengths, [&](std::string_view piece) { framer.feed(piece); });
  framer.finish();
  return out;
}

bool is_json(std::string_view text) {
  json::Document doc;
  return static_cast<bool>(json::parse(doc, text));
}

/// What the bridge writes to stdout for a message it cannot take must be one JSON text.
void check_error_answer(std::string_view id, int code, const std::string& message) {
  fuzz::check(is_json(jsonrpc::error_response(id, code, message)),
              "error_response with a message's id is a JSON text");
}

void check_message(const std::string& line) {
  auto m = jsonrpc::parse(line);
  if (!m) {
    check_error_answer(m.error().id, m.error().code, m.error().message);
    return;
  }
  fuzz::check(m->raw.find_first_of("\r\n") == std::string::npos,
              "a parsed message's raw text fits on one line");
  fuzz::check(m->doc.IsObject(), "a parsed message is an object");
  // A response may carry id null (an error about a request whose id could not be read).
  if (m->kind == jsonrpc::Kind::request) fuzz::check(!m->id.empty(), "a request has an id");
  if (!m->id.empty()) {
    fuzz::check(is_json(m->id), "a message's id is compact JSON text");
    check_error_answer(m->id, jsonrpc::code::internal_error, "x");
  }
  // As the bridge reads stdin: a large tools/call keeps its long strings out of its document,
  // and is otherwise the same message, whole again once asked.
  auto t = jsonrpc::parse(line, "tools/call");
  fuzz::check(static_cast<bool>(t), "a trimming parse takes what a whole one takes");
  if (!t) return;
  fuzz::check(t->kind == m->kind && t->id == m->id && t->method == m->method && t->raw == m->raw,
              "a trimmed message reads as the whole one");
  fuzz::check(!t->trimmed || (m->kind == jsonrpc::Kind::request && m->method == "tools/call"),
              "only a tools/call stays trimmed");
  jsonrpc::make_whole(*t);
  fuzz::check(json::to_string(t->doc) == json::to_string(m->doc), "made whole, it is the same");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = fuzz::as_text(data, size);
  auto options = fuzz::take_byte(in);
  // At least 4: the bytes of a BOM cut short at the end of the stream are a line that skips
  // the check (harmless at the megabytes --max-message-mb allows).
  std::size_t max_line = (options & 0x80) != 0 ? 4 + (options & 0x7f) : std::size_t{1} << 20;
  auto lengths = fuzz::take(in, 4);

  auto whole = frame(in, {}, max_line);
  auto pieces = frame(in, lengths, max_line);
  fuzz::check(whole.lines == pieces.lines, "the same lines wherever the stream is cut");
  fuzz::check(whole.oversized.size() == pieces.oversized.size(),
              "the same oversized lines wherever the stream is cut");
  for (std::size_t i = 0; i < whole.oversized.size(); ++i) {
    const auto& w = whole.oversized[i];
    const auto& p = pieces.oversized[i];
    fuzz::check(w.size == p.size && w.tail == p.tail,
                "an oversized line has the same size and tail wherever the stream is cut");
    fuzz::check(w.head.compare(0, p.head.size(), p.head) == 0,
                "an oversized line's head is its first bytes");
  }

  for (const auto& line : whole.lines) {
    fuzz::check(line.size() <= max_line, "lines within the limit");
    fuzz::check(line.find('\n') == std::string::npos, "a line holds no LF");
    check_message(line);
  }
  for (const auto& o : whole.oversized) {
    fuzz::check(o.size > max_line, "only lines over the limit are oversized");
    if (auto id = jsonrpc::find_id(o.head, o.tail); id && !is_json(*id)) {
      std::fprintf(stderr, "fuzz: find_id gave [%s]\n", id->c_str());
      fuzz::broken("find_id returns compact JSON text of the id");
    }
  }

  if (auto body = jsonrpc::parse_body(std::string(in))) {
    for (const auto& m : *body) {
      fuzz::check(m.doc.IsObject(), "each message of a body is an object");
      fuzz::check(is_json(m.raw), "each message of a body keeps a JSON text");
    }
  } else {
    check_error_answer(body.error().id, body.error().code, body.error().message);
  }
  return 0;
}
