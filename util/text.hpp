#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace claribi::text {

/// ASCII lower case (HTTP header names, media types).
inline std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// `s` without leading and trailing ASCII whitespace.
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
    s.remove_suffix(1);
  }
  return s;
}

/// Skips a UTF-8 BOM at the very start of a byte stream fed in chunks, where the BOM itself
/// may arrive split. `held` keeps the BOM bytes seen so far (start with it empty). Returns
/// true while undecided (the whole chunk was BOM bytes; call again with the next chunk).
/// When it returns false the decision is made: `chunk` has had any BOM removed, and `held`
/// holds bytes that only looked like the start of a BOM (ordinary content) or nothing.
inline bool skip_leading_bom(std::string& held, std::string_view& chunk) {
  static constexpr std::string_view bom = "\xEF\xBB\xBF";
  std::size_t take = std::min(bom.size() - held.size(), chunk.size());
  if (bom.substr(held.size(), take) != chunk.substr(0, take)) return false;
  held.append(chunk.substr(0, take));
  chunk.remove_prefix(take);
  if (held.size() < bom.size()) return true;
  held.clear();
  return false;
}

}  // namespace claribi::text
