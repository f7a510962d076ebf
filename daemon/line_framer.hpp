#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace claribi::daemon {

/// Splits the stdin byte stream into newline-delimited messages (MCP stdio transport).
/// LF ends a line; a CR before it is dropped; a UTF-8 BOM at the very start is skipped;
/// blank lines are skipped. A line longer than `max_line` is never buffered whole: its
/// first and last bytes are kept so the caller can still answer with the request's id.
/// Not thread-safe.
class LineFramer {
 public:
  struct Oversized {
    std::size_t size = 0;  ///< bytes in the line
    std::string head;      ///< its first bytes
    std::string tail;      ///< its last bytes
  };
  struct Sink {
    std::function<void(std::string&&)> on_line;
    std::function<void(Oversized&&)> on_oversized;
  };

  LineFramer(Sink sink, std::size_t max_line);

  void feed(std::string_view chunk);

  /// End of input: a last line without a newline is still delivered.
  void finish();

 private:
  void emit();

  Sink m_sink;
  std::size_t m_max_line;
  std::string m_line;
  bool m_at_start = true;
  bool m_oversized = false;
  std::size_t m_oversized_size = 0;
  std::string m_head;
  std::string m_tail;
};

}  // namespace claribi::daemon
