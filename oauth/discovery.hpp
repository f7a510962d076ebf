#pragma once

// Where to log in for an MCP server: its protected resource metadata (RFC 9728), then its
// authorization server's metadata (RFC 8414, OpenID Connect Discovery), or for a 2025-03-26
// server the origin's metadata or default endpoints.

#include <string>
#include <vector>

#include "oauth/answers.hpp"
#include "oauth/http.hpp"
#include "oauth/oauth.hpp"
#include "util/url.hpp"

namespace claribi::oauth {

struct Discovery {
  std::string resource;  ///< what goes in the resource parameter (RFC 8707)
  std::vector<std::string> prm_scopes;
  AsMetadata as;
};

/// Discovery for `server` after challenge `c` (whose resource_metadata is tried first).
Result<Discovery> discover(HttpClient& http, const Url& server, const Challenge& c);

}  // namespace claribi::oauth
