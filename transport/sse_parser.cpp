#include "transport/sse_parser.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <cctype>

namespace claribi::transport {

SseParser::SseParser(Sink sink, std::size_t max_event_bytes)
    : m_sink(std::move(sink)), m_max_event_bytes(max_event_bytes) {}

bool SseParser::feed(std::string_view chunk) {
  if (m_failed) return false;
  if (m_at_start) {
    if (text::skip_leading_bom(m_line, chunk)) return true;
    m_at_start = false;
  }
  while (!chunk.empty()) {
    if (m_after_cr && chunk.front() == '\n') chunk.remove_prefix(1);
    m_after_cr = false;
    auto end = chunk.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      m_line.append(chunk);
      if (m_line.size() > m_max_event_bytes) m_failed = true;
      return !m_failed;
    }
    m_line.append(chunk.substr(0, end));
    m_after_cr = chunk[end] == '\r';
    chunk.remove_prefix(end + 1);
    process_line(m_line);
    m_line.clear();
    if (m_failed) return false;
  }
  return true;
}

void SseParser::process_line(std::string& line_text) {
  std::string_view line = line_text;
  if (line.empty()) {
    dispatch();
    return;
  }
  if (line.front() == ':') return;
  auto colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (m_data.empty()) {
      // The line's buffer becomes the data: a long line is not copied.
      const std::size_t from = line_text.size() - value.size();  // value ends the line
      m_data = std::move(line_text);
      m_data.erase(0, from);
    } else {
      m_data.append(value);
    }
    m_data.push_back('\n');
    m_seen_data_field = true;
    if (m_data.size() > m_max_event_bytes) m_failed = true;
  } else if (field == "event") {
    m_type.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) m_last_event_id.assign(value);
  } else if (field == "retry") {
    if (!value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0;
        })) {
      if (value.size() <= 9 && m_sink.on_retry) m_sink.on_retry(std::stol(std::string(value)));
    }
  }
}

void SseParser::dispatch() {
  if (!m_seen_data_field) {
    m_type.clear();
    return;
  }
  SseEvent ev;
  if (!m_data.empty() && m_data.back() == '\n') m_data.pop_back();
  ev.data = std::move(m_data);
  ev.type = m_type.empty() ? std::string("message") : std::move(m_type);
  ev.id = m_last_event_id;
  m_data.clear();
  m_type.clear();
  m_seen_data_field = false;
  if (m_sink.on_event) m_sink.on_event(std::move(ev));
}

}  // namespace claribi::transport
