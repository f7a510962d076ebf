#pragma once

// The token endpoint (RFC 6749 3.2): client authentication (RFC 6749 2.3, RFC 7523 2.2), the
// request and its answer, and the grants that need no user: refresh, client credentials and
// enterprise-managed authorization (RFC 8693 token exchange, then an RFC 7523 JWT bearer grant).

#include <string>
#include <vector>

#include "oauth/client_identity.hpp"
#include "oauth/discovery.hpp"
#include "oauth/http.hpp"
#include "oauth/oauth.hpp"

namespace claribi::oauth {

class TokenEndpoint {
 public:
  explicit TokenEndpoint(HttpClient& http) : m_http(http) {}

  /// Adds `cl`'s authentication to a request for `audience` (the issuer).
  static Result<void> authenticate(Form& form, std::vector<std::string>& headers, const Client& cl,
                                   const std::string& audience);

  /// One token request; `error_code` receives the OAuth error code of a refusal.
  Result<TokenSet> request(Form form, const Client& cl, const Discovery& d,
                           std::string* error_code = nullptr);

  /// The refresh grant for `old`, by the client that obtained it.
  Result<TokenSet> refresh(const TokenSet& old, const Client& cl);
  /// The client credentials grant (a confidential pre-registered client).
  Result<TokenSet> client_credentials(const Client& cl, const Discovery& d,
                                      const std::vector<std::string>& scopes);
  /// Enterprise-managed authorization (SEP-990): `id_token` from the identity provider is
  /// exchanged at `idp_token_endpoint` for an identity assertion grant, which `d.as` takes.
  Result<TokenSet> enterprise(const Client& cl, const Discovery& d,
                              const std::vector<std::string>& scopes, const std::string& id_token,
                              const std::string& idp_token_endpoint,
                              const std::string& idp_client_id);

 private:
  HttpClient& m_http;
};

}  // namespace claribi::oauth
