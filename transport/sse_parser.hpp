#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace claribi::transport {

/// One dispatched server-sent event.
struct SseEvent {
  std::string type = "message";
  std::string data;
  std::string id;  ///< the stream's last event id when this event was dispatched
};

/// Incremental parser for text/event-stream (WHATWG HTML, "Interpreting an event stream"):
/// CR, LF and CRLF line ends (also split across chunks), a leading BOM, comments, multi-line
/// data, id (ignored when it contains NUL) and retry (digits only).
/// Not thread-safe; one instance per stream.
class SseParser {
 public:
  struct Sink {
    std::function<void(SseEvent&&)> on_event;
    std::function<void(long milliseconds)> on_retry;
  };

  /// `max_event_bytes` bounds one event's data; past it, `feed` returns false and the
  /// parser stays failed.
  explicit SseParser(Sink sink, std::size_t max_event_bytes = 64u << 20);

  /// Feeds the next bytes of the stream. Returns false once an event exceeded the bound.
  bool feed(std::string_view chunk);

  const std::string& last_event_id() const { return m_last_event_id; }
  bool failed() const { return m_failed; }

 private:
  /// Handles one line, which it may take (the first data line of an event becomes its data).
  void process_line(std::string& line);
  void dispatch();

  Sink m_sink;
  std::size_t m_max_event_bytes;
  std::string m_line;
  std::string m_data;
  std::string m_type;
  std::string m_last_event_id;
  bool m_seen_data_field = false;
  bool m_after_cr = false;
  bool m_at_start = true;
  bool m_failed = false;
};

}  // namespace claribi::transport
