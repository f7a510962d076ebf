#pragma once

// Scope strings (RFC 6749 3.3: space-separated, unordered) and which scopes a login asks for.

#include <string>
#include <string_view>
#include <vector>

#include "oauth/oauth.hpp"

namespace claribi::oauth {

/// The words of a scope string, each once, in order.
std::vector<std::string> split_words(std::string_view s);
std::string join_words(const std::vector<std::string>& words);
bool contains(const std::vector<std::string>& v, std::string_view s);
/// Whether the `granted` scope string holds every scope of `wanted`.
bool covers(const std::string& granted, const std::string& wanted);

/// The scopes to request: --scope, else the challenge's, else the resource's
/// scopes_supported; a step-up (403 insufficient_scope) keeps `requested_before` (SEP-2350:
/// the union); offline_access is added when the server offers it.
std::vector<std::string> choose_scopes(const std::string& configured, const Challenge& c,
                                       const std::vector<std::string>& resource_scopes,
                                       const std::vector<std::string>& scopes_supported,
                                       const std::vector<std::string>& requested_before);

}  // namespace claribi::oauth
