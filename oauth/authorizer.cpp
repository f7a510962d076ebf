// The MCP authorization client's policy: which tokens to use (newer stored ones, a refresh, a
// new login, a step-up for more scopes), which grant logs in, all under one per-server lock
// so that concurrent bridges log in once. The steps themselves live beside it: discovery
// (discovery.cpp), client identity (client_identity.cpp), the token endpoint and the grants
// without a user (token_endpoint.cpp), the grants with one (user_grants.cpp), storage
// (store.cpp).
#include "oauth/oauth.hpp"

#include "oauth/client_identity.hpp"
#include "oauth/discovery.hpp"
#include "oauth/dpop.hpp"
#include "oauth/file_lock.hpp"
#include "oauth/http.hpp"
#include "oauth/scopes.hpp"
#include "oauth/store.hpp"
#include "oauth/token_endpoint.hpp"
#include "oauth/user_grants.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace claribi::oauth {
namespace {

constexpr int k_max_step_ups = 2;
constexpr std::size_t k_max_workload_token = 64 * 1024;

/// The workload's JWT, read now: trimmed, at most 64 KiB, three base64url parts.
Result<std::string> read_workload_token(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read the workload token file " + path + ": " + std::strerror(errno));
  std::string text(k_max_workload_token + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > k_max_workload_token) {
    return fail("the workload token file " + path +
                " holds more than 64 KiB; it should hold "
                "one JWT");
  }
  auto jwt = std::string(text::trim(text));
  bool shaped = std::count(jwt.begin(), jwt.end(), '.') == 2 &&
                jwt.find_first_not_of(
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789-_.") == std::string::npos;
  if (!shaped) {
    return fail("the workload token file " + path + " does not hold a JWT (" +
                (jwt.empty() ? "it is empty" : "expected three base64url parts") + ")");
  }
  return jwt;
}

std::shared_ptr<HttpClient> http_for(const Options& o) {
  if (o.http) return o.http;
  auto curl = std::make_shared<CurlHttpClient>();
  curl->trust = o.trust;
  curl->allow_http = o.allow_http;
  curl->connect_timeout_ms = o.connect_timeout_ms;
  return curl;
}

/// The RFC 8707 resource to send: --resource, none with --no-resource-param (Microsoft Entra
/// refuses it), else what discovery (or the stored tokens) named.
std::string resource_to_send(const Options& o, std::string named) {
  if (!o.send_resource) return {};
  return o.resource.empty() ? named : o.resource;
}

}  // namespace

struct Authorizer::Impl {
  const Options& o;
  std::shared_ptr<HttpClient> http;
  OAuthStore store;
  ClientIdentity clients;
  TokenEndpoint tokens;
  std::vector<std::string> requested_scopes;  ///< union of what this process asked for
  int step_ups = 0;                           ///< in a row for the same challenged scopes
  std::string step_up_scope;

  explicit Impl(const Options& options)
      : o(options),
        http(http_for(options)),
        store(options.store, options.account_server, options.keychain_timeout_ms),
        clients(*http, store, options.client_id, options.client_metadata_url),
        tokens(*http, store, *options.dpop) {}

  /// The stored tokens if they can be used: DPoP-bound ones only with their key, which
  /// then signs the MCP requests. Bound tokens whose key is gone are dropped.
  std::optional<TokenSet> usable_tokens() {
    auto t = store.load_tokens();
    if (!t || t->dpop_jkt.empty()) return t;
    auto key = store.dpop_key(false);
    if (key && *key && (*key)->thumbprint() != t->dpop_jkt) key = store.dpop_key(false, true);
    if (key && *key && (*key)->thumbprint() == t->dpop_jkt) {
      o.dpop->set_key(*key);
      return t;
    }
    if (!key) {  // the keychain did not answer: the key may well be there; keep the tokens
      CLARIBI_LOG(warn, "cannot read the DPoP key the stored tokens are bound to ("
                            << key.error().message << "); signing in again");
      return std::nullopt;
    }
    CLARIBI_LOG(warn,
                "the DPoP key the stored tokens are bound to is gone; dropping them and "
                "signing in again");
    store.drop_tokens();
    return std::nullopt;
  }

  Result<TokenSet> refresh(TokenSet old) {
    auto cl = clients.for_refresh(old);
    if (!cl) return fail(cl.error().message);
    old.resource = resource_to_send(o, std::move(old.resource));
    return tokens.refresh(old, *cl);
  }

  /// Workload identity: the JWT in the file as it is now, which CI systems and clouds
  /// rotate, presented once; a refusal is the user's to fix, never retried another way.
  Result<TokenSet> workload_grant(const Discovery& d, const std::vector<std::string>& scopes) {
    const auto& file = o.workload_token_file;
    if (o.client_id.empty()) return fail("--workload-token-file needs --client-id");
    auto jwt = read_workload_token(file);
    if (!jwt) return fail(jwt.error().message);
    log::add_secret(*jwt);
    auto cl = clients.pre_registered(d.as);
    if (!cl) return fail(cl.error().message);
    auto t = tokens.jwt_bearer(*cl, d, scopes, *jwt);
    if (!t) {
      return fail("the authorization server did not accept the workload token in " + file + ": " +
                  t.error().message);
    }
    return t;
  }

  Result<TokenSet> grant(const Discovery& d, const std::vector<std::string>& scopes) {
    GrantContext g{o, *http, store, clients, tokens};
    if (o.interaction == Interaction::device) return device_grant(g, d, scopes);
    if (o.client_credentials) {
      if (o.client_id.empty()) {
        return fail(
            "--client-credentials needs --client-id, and the client's secret ('claribi-"
            "bridge key set --client-secret URL') or private key ('--client-key')");
      }
      auto cl = clients.pre_registered(d.as);
      if (!cl) return fail(cl.error().message);
      if (cl->auth_method == "none") {
        return fail("no secret or private key is stored for client " + o.client_id +
                    "; store one with 'claribi-bridge key set --client-secret URL' or "
                    "'--client-key'");
      }
      return tokens.client_credentials(*cl, d, scopes);
    }
    if (!o.workload_token_file.empty()) return workload_grant(d, scopes);
    if (!o.idp_token_endpoint.empty()) {
      auto id_token = store.secret(keychain::SecretKind::idp_token);
      if (!id_token) return fail(id_token.error().message);
      if (!*id_token) {
        return fail(
            "no identity provider ID token is stored; store it with 'claribi-bridge key set "
            "--idp-token URL'");
      }
      log::add_secret(**id_token);
      if (o.client_id.empty()) return fail("enterprise-managed authorization needs --client-id");
      auto cl = clients.pre_registered(d.as);
      if (!cl) return fail(cl.error().message);
      return tokens.enterprise(*cl, d, scopes, **id_token, o.idp_token_endpoint, o.idp_client_id);
    }
    return code_grant(g, d, scopes);
  }

  Result<TokenSet> login(const Challenge& c) {
    auto d = discover(*http, o.server, c);
    if (!d) return fail(d.error().message);
    d->resource = resource_to_send(o, std::move(d->resource));
    auto scopes =
        choose_scopes(o.scope, c, d->prm_scopes, d->as.scopes_supported, requested_scopes);
    auto t = grant(*d, scopes);
    if (!t) return t;
    for (const auto& s : scopes) {
      if (!contains(requested_scopes, s)) requested_scopes.push_back(s);
    }
    store.save_tokens(*t);
    CLARIBI_LOG(info, "logged in to "
                          << display_url(o.server)
                          << (t->expires_at != 0
                                  ? "; the access token lasts " +
                                        std::to_string(t->expires_at - t->obtained_at) + " s"
                                  : std::string())
                          << (t->refresh_token.empty() ? "" : ", refreshable"));
    return t;
  }
};

Authorizer::Authorizer(Options options) : m_options(std::move(options)) {
  if (m_options.lock_path.empty()) m_options.lock_path = lock_path_for(m_options.account_server);
  if (!m_options.dpop) m_options.dpop = std::make_shared<DpopSession>();
  m = std::make_unique<Impl>(m_options);
}

Authorizer::~Authorizer() = default;

Result<std::optional<TokenSet>> Authorizer::load() {
  std::lock_guard<std::mutex> guard(m_mutex);
  return m->usable_tokens();
}

template <class F>
auto Authorizer::locked(F&& f) -> decltype(f()) {
  std::lock_guard<std::mutex> guard(m_mutex);
  auto lock = FileLock::acquire(m_options.lock_path,
                                std::chrono::milliseconds(m_options.login_timeout_ms + 60000));
  if (!lock) return fail(lock.error().message);
  return f();
}

Result<TokenSet> Authorizer::authorize(const Challenge& c, const std::string& rejected) {
  return locked([&]() -> Result<TokenSet> {
    auto current = m->usable_tokens();
    if (current && current->access_token != rejected &&
        (!c.insufficient_scope() || covers(current->scope, c.scope))) {
      CLARIBI_LOG(info, "using the tokens another claribi-bridge obtained meanwhile");
      return *current;
    }
    if (c.insufficient_scope()) {
      if (current && !c.scope.empty() && covers(current->scope, c.scope)) {
        return fail(
            "the server refuses with insufficient_scope although the token holds the scopes "
            "it names (" +
            c.scope + "); not logging in again" +
            (c.error_description.empty() ? "" : " (" + c.error_description + ")"));
      }
      if (c.scope != m->step_up_scope) {
        m->step_up_scope = c.scope;
        m->step_ups = 0;
      }
      if (++m->step_ups > k_max_step_ups) {
        return fail("the server keeps asking for more scopes (" + c.scope + "); gave up after " +
                    std::to_string(k_max_step_ups) + " step-up logins");
      }
      CLARIBI_LOG(info, "the server needs more scopes (" << c.scope << "): logging in again");
      return m->login(c);
    }
    if (current && !current->refresh_token.empty()) {
      auto r = m->refresh(*current);
      if (r) {
        m->store.save_tokens(*r);
        CLARIBI_LOG(info, "refreshed the access token after the server refused it");
        return r;
      }
      CLARIBI_LOG(warn,
                  "refreshing the tokens failed (" << r.error().message << "); logging in again");
      current->refresh_token.clear();
      m->store.save_tokens(*current);  // the dead refresh token is never tried again
    }
    return m->login(c);
  });
}

Result<TokenSet> Authorizer::refresh(const std::string& current_token) {
  return locked([&]() -> Result<TokenSet> {
    auto current = m->usable_tokens();
    if (!current) return fail("no tokens are stored");
    if (current->access_token != current_token) return *current;  // someone else refreshed
    auto r = m->refresh(*current);
    if (!r) return fail(r.error().message);
    m->store.save_tokens(*r);
    return r;
  });
}

Result<TokenSet> Authorizer::login(const Challenge& c) {
  return locked([&]() -> Result<TokenSet> { return m->login(c); });
}

}  // namespace claribi::oauth
