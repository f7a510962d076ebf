#pragma once

// The grants in which a person signs in: the authorization code grant with PKCE (RFC 7636)
// through the browser and a loopback redirect (RFC 8252), or a pasted redirect address
// (login --manual), with the issuer check of RFC 9207; and the device authorization grant
// (RFC 8628).

#include <string>
#include <vector>

#include "oauth/client_identity.hpp"
#include "oauth/discovery.hpp"
#include "oauth/oauth.hpp"
#include "oauth/store.hpp"
#include "oauth/token_endpoint.hpp"

namespace claribi::oauth {

/// What a user grant works with; it owns none of it.
struct GrantContext {
  const Options& options;
  HttpClient& http;
  OAuthStore& store;
  ClientIdentity& clients;
  TokenEndpoint& tokens;
};

Result<TokenSet> code_grant(const GrantContext& g, const Discovery& d,
                            const std::vector<std::string>& scopes);
Result<TokenSet> device_grant(const GrantContext& g, const Discovery& d,
                              const std::vector<std::string>& scopes);

}  // namespace claribi::oauth
