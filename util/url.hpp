#pragma once

#include <string>
#include <string_view>

#include "util/result.hpp"

namespace claribi {

/// An absolute http(s) URL, parsed by libcurl's URL API. Path and query are kept exactly.
struct Url {
  std::string text;  ///< the normalized full URL
  std::string scheme;
  std::string host;
  std::string port;  ///< empty when the scheme's default
  std::string path;
  std::string query;  ///< without '?', empty when none

  /// True for 127.0.0.0/8, ::1 and "localhost".
  bool is_loopback() const;
};

/// Parses an absolute http or https URL. Refuses other schemes and user:password@ parts
/// (credentials belong in the keychain, not in a URL).
Result<Url> parse_url(std::string_view text);

/// Resolves `reference` (absolute, or relative as in RFC 3986) against `base`.
Result<Url> resolve_url(const Url& base, std::string_view reference);

/// Percent-encodes every byte outside RFC 3986's unreserved set (libcurl's escape).
std::string percent_encode(std::string_view s);
/// Decodes %XX escapes (libcurl's unescape); '+' stays '+'.
std::string percent_decode(std::string_view s);

/// The URL as it may appear in logs and error messages: query values of secret-looking
/// parameters replaced.
std::string display_url(const Url& url);

}  // namespace claribi
