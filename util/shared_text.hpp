#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace claribi {

/// Text that its holders share rather than copy: a message kept for sending again is also
/// the body of the request under way. Read-only; assigning gives a holder new text, while
/// another holder (a transfer still sending the old) keeps what it had.
class SharedText {
 public:
  SharedText() = default;
  SharedText(std::string text)  // NOLINT(google-explicit-constructor): stands for a string
      : m_text(std::make_shared<const std::string>(std::move(text))) {}

  const std::string& str() const { return m_text ? *m_text : empty_string(); }
  operator std::string_view() const { return str(); }  // NOLINT: reads as the text

  const char* data() const { return str().data(); }
  std::size_t size() const { return str().size(); }
  std::size_t find(std::string_view s, std::size_t from = 0) const { return str().find(s, from); }

  friend bool operator==(const SharedText& a, const SharedText& b) { return a.str() == b.str(); }
  friend bool operator==(const SharedText& a, std::string_view b) { return a.str() == b; }
  friend bool operator==(const SharedText& a, const char* b) { return a.str() == b; }
  friend bool operator==(const SharedText& a, const std::string& b) { return a.str() == b; }

 private:
  static const std::string& empty_string() {
    static const std::string empty;
    return empty;
  }
  std::shared_ptr<const std::string> m_text;
};

}  // namespace claribi
