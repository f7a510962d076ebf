#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keychain/keychain.hpp"
#include "util/result.hpp"
#include "util/tls_trust.hpp"
#include "util/url.hpp"

namespace claribi::oauth {

class HttpClient;
class DpopSession;

/// What a 401 or 403 said (RFC 6750 3, RFC 9728 5.1): the Bearer challenge's parameters.
struct Challenge {
  long status = 0;
  std::string resource_metadata;
  std::string scope;
  std::string error;
  std::string error_description;
  bool insufficient_scope() const { return status == 403 && error == "insufficient_scope"; }
};

/// Parses a WWW-Authenticate value (RFC 9110 11.6.1: several challenges, auth-params whose
/// values are tokens or quoted strings). Only the Bearer and DPoP challenges are kept.
Challenge parse_challenge(long status, std::string_view header);

/// One login's result, stored in the keychain as JSON (kind oauth-tokens).
struct TokenSet {
  std::string access_token;
  std::string token_type = "Bearer";
  std::string refresh_token;
  std::string scope;            ///< granted (or, when the server did not say, requested)
  std::int64_t expires_at = 0;  ///< unix seconds; 0 when the server gave no lifetime
  std::int64_t obtained_at = 0;
  std::string issuer;          ///< the authorization server that issued them
  std::string token_endpoint;  ///< where to refresh them
  std::string client_id;
  std::string auth_method;  ///< token endpoint client authentication
  std::string resource;     ///< the RFC 8707 resource they are for
  /// Thumbprint of the DPoP key they were requested with (RFC 9449 5); empty: not bound.
  std::string dpop_jkt;

  std::string to_json() const;
  static Result<TokenSet> from_json(std::string_view text);
};

/// Protected resource metadata locations for `server`, in the order to try (RFC 9728 3.1):
/// the path-inserted well-known URL (query kept), then the root one.
std::vector<std::string> resource_metadata_urls(const Url& server);
/// Authorization server metadata locations for `issuer`, in the order MCP 2025-11-25 gives
/// (RFC 8414 path-inserted, OpenID Connect path-inserted, OpenID Connect path-appended;
/// for an issuer without a path: RFC 8414, then OpenID Connect).
std::vector<std::string> authorization_server_metadata_urls(const Url& issuer);
/// Whether a protected resource metadata `resource` names the server at `server`: same
/// scheme, host and port; its path a prefix of the server's at a segment boundary; its
/// query, when it has one, equal.
bool resource_matches(std::string_view resource, const Url& server);

enum class Interaction {
  browser,  ///< open the browser (or print the URL when there is none) and wait
  print,    ///< --no-browser: print the URL and wait
  manual,   ///< login --manual: print the URL, read the final redirect URL from stdin
  device,   ///< login --device-code: the device authorization grant (RFC 8628)
};

struct Options {
  Url server;                                 ///< the MCP endpoint
  std::string account_server;                 ///< keychain::canonical_server of it
  std::shared_ptr<keychain::Keychain> store;  ///< null: tokens live only in this process
  std::string client_id;                      ///< pre-registered client (--client-id)
  std::string client_metadata_url;            ///< --client-metadata-url (CIMD)
  bool client_credentials = false;            ///< machine-to-machine grant
  std::string idp_token_endpoint;             ///< enterprise-managed authorization
  std::string idp_client_id;
  /// Workload identity: a file holding a JWT issued to this workload, presented by
  /// `client_id` in the RFC 7523 JWT bearer grant. Read at each token request.
  std::string workload_token_file;
  std::string scope;  ///< --scope: overrides the challenge's
  /// --resource: the RFC 8707 resource asked for instead of the one the metadata names.
  std::string resource;
  /// --no-resource-param: no RFC 8707 resource in authorization and token requests.
  bool send_resource = true;
  /// --authorize-param: more authorization request parameters (prompt, domain_hint...),
  /// none of those the flow sets itself (authorize_param checks them).
  std::vector<std::pair<std::string, std::string>> authorize_params;
  int callback_port = 0;
  std::string callback_host = "127.0.0.1";  ///< --callback-host: or localhost
  std::string callback_path = "/callback";  ///< --callback-path
  Interaction interaction = Interaction::browser;
  long login_timeout_ms = 300000;
  long keychain_timeout_ms = 20000;
  std::shared_ptr<const tls::Trust> trust;  ///< which CAs TLS trusts; null: libcurl's
  bool allow_http = false;
  long connect_timeout_ms = 0;  ///< --connect-timeout; 0: libcurl's own
  std::string lock_path;        ///< empty: lock_path_for(account_server)
  /// Reads one line (login --manual); empty when stdin is not ours.
  std::function<std::optional<std::string>()> read_line;
  /// The HTTP client of the flows; null: libcurl (with trust and allow_http).
  std::shared_ptr<HttpClient> http;
  /// The DPoP key and nonces, shared with whoever sends the MCP requests; null: the
  /// Authorizer makes its own.
  std::shared_ptr<DpopSession> dpop;
};

/// One --authorize-param KEY=VALUE. Refused: no '=', an empty KEY, and the parameters the
/// login sets itself (client, redirect, state, PKCE, response type and mode, resource, scope,
/// request objects), with the option to use instead where there is one.
Result<std::pair<std::string, std::string>> authorize_param(std::string_view arg);

/// The MCP authorization client (2025-11-25, with the 2025-06-18 and 2025-03-26
/// behaviours and what 2026-07-28 hardened) for one server. Every call blocks (HTTP, the
/// browser, the keychain, the cross-process lock): worker threads only, one at a time.
class Authorizer {
 public:
  explicit Authorizer(Options options);
  ~Authorizer();

  /// The token set stored for the server, if any.
  Result<std::optional<TokenSet>> load();
  /// The remote refused `rejected_token` (empty: none was sent) with `challenge`. Returns
  /// tokens to retry with: newer ones another process stored, refreshed ones, or those of
  /// a new login (a step-up for a 403 insufficient_scope), under the server's file lock.
  Result<TokenSet> authorize(const Challenge& challenge, const std::string& rejected_token);
  /// Refreshes `current_token` ahead of its expiry (or returns newer stored tokens).
  Result<TokenSet> refresh(const std::string& current_token);
  /// A new login whatever is stored (claribi-bridge login).
  Result<TokenSet> login(const Challenge& challenge);

  const Options& options() const { return m_options; }
  /// The key DPoP-bound tokens need (set once they are loaded or obtained) and the nonces.
  const std::shared_ptr<DpopSession>& dpop() const { return m_options.dpop; }

 private:
  struct Impl;
  /// Runs `f` holding this process's mutex and the server's cross-process login lock.
  template <class F>
  auto locked(F&& f) -> decltype(f());

  Options m_options;
  std::unique_ptr<Impl> m;
  std::mutex m_mutex;
};

/// Seconds since the epoch.
std::int64_t now_seconds();

}  // namespace claribi::oauth
