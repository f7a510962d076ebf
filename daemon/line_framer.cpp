#include "daemon/line_framer.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <cstring>

namespace claribi::daemon {
namespace {
constexpr std::size_t k_kept_bytes = 64 * 1024;

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}
}  // namespace

LineFramer::LineFramer(Sink sink, std::size_t max_line)
    : m_sink(std::move(sink)), m_max_line(max_line) {}

void LineFramer::feed(std::string_view chunk) {
  if (m_at_start) {
    if (text::skip_leading_bom(m_line, chunk)) return;
    m_at_start = false;
  }
  while (!chunk.empty()) {
    const void* nl = std::memchr(chunk.data(), '\n', chunk.size());
    std::size_t part = nl == nullptr
                           ? chunk.size()
                           : static_cast<std::size_t>(static_cast<const char*>(nl) - chunk.data());
    std::string_view piece = chunk.substr(0, part);
    if (m_oversized) {
      m_oversized_size += piece.size();
      if (piece.size() >= k_kept_bytes) {
        m_tail.assign(piece.substr(piece.size() - k_kept_bytes));
      } else {
        m_tail.append(piece);
        if (m_tail.size() > k_kept_bytes) m_tail.erase(0, m_tail.size() - k_kept_bytes);
      }
    } else if (m_line.size() + piece.size() > m_max_line) {
      m_oversized = true;
      m_oversized_size = m_line.size() + piece.size();
      std::string all = std::move(m_line);
      all.append(piece);
      m_head = all.substr(0, k_kept_bytes);
      m_tail = all.substr(all.size() - std::min(all.size(), k_kept_bytes));
      m_line.clear();
      m_line.shrink_to_fit();
    } else {
      m_line.append(piece);
    }
    if (nl == nullptr) return;
    chunk.remove_prefix(part + 1);
    emit();
  }
}

void LineFramer::finish() {
  if (m_oversized || !m_line.empty()) emit();
}

void LineFramer::emit() {
  if (m_oversized) {
    Oversized o{m_oversized_size, std::move(m_head), std::move(m_tail)};
    if (!o.tail.empty() && o.tail.back() == '\r') o.tail.pop_back();
    m_oversized = false;
    m_head.clear();
    m_tail.clear();
    m_sink.on_oversized(std::move(o));
    return;
  }
  if (!m_line.empty() && m_line.back() == '\r') m_line.pop_back();
  if (is_blank(m_line)) {
    m_line.clear();
    return;
  }
  std::string line;
  line.swap(m_line);
  m_sink.on_line(std::move(line));
}

}  // namespace claribi::daemon
