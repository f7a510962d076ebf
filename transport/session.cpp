#include "transport/session.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace claribi::transport {

bool says_session_lost(long status, std::string_view body) {
  if (status == 404) return true;
  if (status != 400) return false;
  // Only the start: an error body that explains itself does so at once.
  auto text = text::lower(body.substr(0, 4096));
  if (text.find("session") == std::string::npos) return false;
  static constexpr std::array<std::string_view, 7> k_words = {
      "invalid", "unknown", "missing", "expired", "no valid", "not found", "terminated"};
  return std::any_of(k_words.begin(), k_words.end(),
                     [&](std::string_view w) { return text.find(w) != std::string::npos; });
}

std::string_view session_id_problem(std::string_view id) {
  if (id.size() > k_max_session_id) return "longer than 256 bytes";
  bool visible = std::all_of(id.begin(), id.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x21 && u <= 0x7e;
  });
  return visible ? std::string_view() : "not visible ASCII (0x21-0x7E)";
}

}  // namespace claribi::transport
