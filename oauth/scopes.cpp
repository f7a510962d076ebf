#include "oauth/scopes.hpp"

#include <algorithm>
#include <sstream>

namespace claribi::oauth {

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  std::string w;
  while (in >> w) {
    if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
  }
  return out;
}

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool covers(const std::string& granted, const std::string& wanted) {
  auto g = split_words(granted);
  for (const auto& w : split_words(wanted)) {
    if (!contains(g, w)) return false;
  }
  return true;
}

std::vector<std::string> choose_scopes(const std::string& configured, const Challenge& c,
                                       const std::vector<std::string>& resource_scopes,
                                       const std::vector<std::string>& scopes_supported,
                                       const std::vector<std::string>& requested_before) {
  std::vector<std::string> scopes;
  if (!configured.empty()) {
    scopes = split_words(configured);
  } else if (!c.scope.empty()) {
    scopes = split_words(c.scope);
  } else {
    scopes = resource_scopes;
  }
  if (c.insufficient_scope()) {
    for (const auto& s : requested_before) {
      if (!contains(scopes, s)) scopes.push_back(s);
    }
  }
  if (!scopes.empty() && contains(scopes_supported, "offline_access") &&
      !contains(scopes, "offline_access")) {
    scopes.emplace_back("offline_access");  // a refresh token spares the next login
  }
  return scopes;
}

}  // namespace claribi::oauth
