#pragma once

// The token endpoint (RFC 6749 3.2): client authentication (RFC 6749 2.3, RFC 7523 2.2), the
// request and its answer, and the grants that need no user: refresh, client credentials and
// enterprise-managed authorization (RFC 8693 token exchange, then an RFC 7523 JWT bearer grant).

#include <string>
#include <vector>

#include "oauth/client_identity.hpp"
#include "oauth/discovery.hpp"
#include "oauth/dpop.hpp"
#include "oauth/http.hpp"
#include "oauth/oauth.hpp"
#include "oauth/store.hpp"

namespace claribi::oauth {

/// Every token request is DPoP-bound (RFC 9449 5) when the authorization server lists ES256
/// in dpop_signing_alg_values_supported, with the key `store` keeps and `dpop` hands the MCP
/// requests; a use_dpop_nonce refusal is retried once with the server's nonce (8).
class TokenEndpoint {
 public:
  TokenEndpoint(HttpClient& http, OAuthStore& store, DpopSession& dpop)
      : m_http(http), m_store(store), m_dpop(dpop) {}

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
  /// The RFC 7523 JWT bearer grant with `assertion`, a JWT issued to this workload by
  /// someone the authorization server trusts (workload identity federation, SEP-1933).
  Result<TokenSet> jwt_bearer(const Client& cl, const Discovery& d,
                              const std::vector<std::string>& scopes, const std::string& assertion);
  /// Enterprise-managed authorization (SEP-990): `id_token` from the identity provider is
  /// exchanged at `idp_token_endpoint` for an identity assertion grant, which `d.as` takes.
  Result<TokenSet> enterprise(const Client& cl, const Discovery& d,
                              const std::vector<std::string>& scopes, const std::string& id_token,
                              const std::string& idp_token_endpoint,
                              const std::string& idp_client_id);

 private:
  HttpClient& m_http;
  OAuthStore& m_store;
  DpopSession& m_dpop;
};

}  // namespace claribi::oauth
