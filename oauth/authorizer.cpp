// The MCP authorization client: discovery (RFC 9728, RFC 8414, OpenID Connect), client
// identity (pre-registered, Client ID Metadata Document, RFC 7591 registration), the
// authorization code grant with PKCE (RFC 7636) over a loopback redirect (RFC 8252),
// resource indicators (RFC 8707), the issuer check of RFC 9207, refresh, client
// credentials (with RFC 7523 assertions) and enterprise-managed authorization (RFC 8693
// token exchange + JWT bearer grant).
#include "oauth/browser.hpp"
#include "oauth/crypto.hpp"
#include "oauth/file_lock.hpp"
#include "oauth/http.hpp"
#include "oauth/loopback.hpp"
#include "oauth/oauth.hpp"

#include "util/base64.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

namespace claribi::oauth {
namespace {

using keychain::Key;
using keychain::SecretKind;

constexpr int k_max_step_ups = 2;

struct AsMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string registration_endpoint;
  std::string device_authorization_endpoint;
  std::vector<std::string> scopes_supported;
  std::vector<std::string> auth_methods;  ///< token_endpoint_auth_methods_supported
  bool has_auth_methods = false;
  std::vector<std::string> challenge_methods;
  bool has_challenge_methods = false;
  bool iss_supported = false;
  bool cimd_supported = false;
  bool from_metadata = true;  ///< false: the 2025-03-26 default endpoints
};

struct Discovery {
  std::string resource;  ///< what goes in the resource parameter
  std::vector<std::string> prm_scopes;
  AsMetadata as;
};

struct Client {
  std::string id;
  std::string secret;
  std::string private_key;
  std::string auth_method = "none";
  bool registered = false;  ///< by us, through Dynamic Client Registration
};

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

std::vector<std::string> string_array(const json::Value* v) {
  std::vector<std::string> out;
  if (v == nullptr || !v->IsArray()) return out;
  for (const auto& e : v->GetArray()) {
    if (e.IsString()) out.emplace_back(e.GetString(), e.GetStringLength());
  }
  return out;
}

std::string str(const json::Value& doc, const char* name) {
  return std::string(json::string_or_empty(json::member(doc, name)));
}

/// "error: description" of an OAuth error answer, or the HTTP status and a snippet.
std::string oauth_error_text(const HttpResponse& r, std::string* code = nullptr) {
  json::Document doc;
  if (json::parse(doc, r.body) && doc.IsObject() && json::member(doc, "error") != nullptr) {
    auto e = str(doc, "error");
    if (code != nullptr) *code = e;
    auto d = str(doc, "error_description");
    return "HTTP " + std::to_string(r.status) + ", " + e + (d.empty() ? "" : ": " + d);
  }
  auto snippet = r.body.substr(0, 200);
  for (auto& c : snippet) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return "HTTP " + std::to_string(r.status) + (snippet.empty() ? "" : ": " + snippet);
}

Result<json::Document> json_object(const HttpResponse& r, const std::string& what) {
  json::Document doc;
  auto parsed = json::parse(doc, r.body);
  if (!parsed || !doc.IsObject()) {
    return fail(what + " is not a JSON object (HTTP " + std::to_string(r.status) +
                (parsed ? "" : ": " + parsed.error().message) + ")");
  }
  return doc;
}

}  // namespace

struct Authorizer::Impl {
  Options& o;
  HttpClient http;
  std::optional<TokenSet> memory;             ///< the current tokens when there is no store
  std::vector<std::string> requested_scopes;  ///< union of what this process asked for
  int step_ups = 0;                           ///< in a row for the same challenged scopes
  std::string step_up_scope;

  explicit Impl(Options& options) : o(options) {
    http.ca_file = o.ca_file;
    http.allow_http = o.allow_http;
  }

  // ---- the keychain -------------------------------------------------------------------

  Result<std::optional<std::string>> get_secret(SecretKind kind) {
    if (!o.store) return std::optional<std::string>();
    auto account = keychain::account_name(o.account_server, kind);
    return keychain::call_with_timeout<std::optional<std::string>>(
        o.store, [account](keychain::Keychain& k) { return k.get(Key{account}); },
        std::chrono::milliseconds(o.keychain_timeout_ms));
  }

  Result<void> set_secret(SecretKind kind, const std::string& value) {
    if (!o.store) return {};
    auto account = keychain::account_name(o.account_server, kind);
    return keychain::call_with_timeout<void>(
        o.store, [account, value](keychain::Keychain& k) { return k.set(Key{account}, value); },
        std::chrono::milliseconds(o.keychain_timeout_ms));
  }

  Result<std::optional<TokenSet>> load() {
    auto stored = get_secret(SecretKind::oauth_tokens);
    if (!stored) {
      CLARIBI_LOG(warn, "cannot read stored OAuth tokens: " << stored.error().message);
      return memory;
    }
    if (!*stored) return memory;
    auto t = TokenSet::from_json(**stored);
    if (!t) {
      CLARIBI_LOG(warn, t.error().message << "; ignoring it");
      return memory;
    }
    remember(*t);
    return std::optional<TokenSet>(std::move(*t));
  }

  void remember(const TokenSet& t) {
    log::add_secret(t.access_token);
    if (!t.refresh_token.empty()) log::add_secret(t.refresh_token);
    memory = t;
  }

  void save(const TokenSet& t) {
    remember(t);
    if (auto r = set_secret(SecretKind::oauth_tokens, t.to_json()); !r) {
      CLARIBI_LOG(warn, "could not store the OAuth tokens (" << r.error().message
                                                             << "); they last until this "
                                                                "claribi-bridge exits");
    }
  }

  // ---- registrations, by authorization server (issuer) ---------------------------------

  struct Registration {
    std::string client_id;
    std::string client_secret;
    std::string auth_method;
    std::string redirect_uri;
  };

  std::optional<Registration> cached_registration(const std::string& issuer) {
    auto v = get_secret(SecretKind::oauth_client);
    if (!v || !*v) return std::nullopt;
    auto doc = json::parse_or_null(**v);
    const auto* regs = json::member(doc, "registrations");
    const auto* r = regs != nullptr ? json::member(*regs, issuer.c_str()) : nullptr;
    if (r == nullptr || !r->IsObject()) return std::nullopt;
    Registration out{str(*r, "client_id"), str(*r, "client_secret"),
                     str(*r, "token_endpoint_auth_method"), str(*r, "redirect_uri")};
    if (out.client_id.empty()) return std::nullopt;
    if (!out.client_secret.empty()) log::add_secret(out.client_secret);
    return out;
  }

  void store_registration(const std::string& issuer, const std::optional<Registration>& reg) {
    if (!o.store) return;
    auto v = get_secret(SecretKind::oauth_client);
    json::Document doc;
    if (v && *v) (void)json::parse(doc, **v);
    if (!doc.IsObject()) doc.SetObject();
    auto& alloc = doc.GetAllocator();
    if (!doc.HasMember("registrations") || !doc["registrations"].IsObject()) {
      doc.RemoveMember("registrations");
      doc.AddMember("registrations", json::Value(rapidjson::kObjectType), alloc);
    }
    auto& regs = doc["registrations"];
    regs.RemoveMember(issuer.c_str());
    if (reg) {
      json::Value r(rapidjson::kObjectType);
      r.AddMember("client_id", json::Value(reg->client_id.c_str(), alloc), alloc);
      if (!reg->client_secret.empty()) {
        r.AddMember("client_secret", json::Value(reg->client_secret.c_str(), alloc), alloc);
      }
      r.AddMember("token_endpoint_auth_method", json::Value(reg->auth_method.c_str(), alloc),
                  alloc);
      r.AddMember("redirect_uri", json::Value(reg->redirect_uri.c_str(), alloc), alloc);
      r.AddMember("registered_at", json::Value(static_cast<std::int64_t>(now_seconds())), alloc);
      regs.AddMember(json::Value(issuer.c_str(), alloc), r, alloc);
    }
    if (auto w = set_secret(SecretKind::oauth_client, json::to_string(doc)); !w) {
      CLARIBI_LOG(warn, "could not store the client registration: " << w.error().message);
    }
  }

  // ---- discovery ---------------------------------------------------------------------------

  /// Fetches `url`; a JSON object on 200, nullopt on 4xx (not there), an error otherwise.
  Result<std::optional<json::Document>> fetch_metadata(const std::string& url,
                                                       const std::string& what) {
    auto r = http.get(url);
    if (!r) return fail(r.error().message);
    if (r->status == 200) {
      auto doc = json_object(*r, what + " at " + url);
      if (!doc) return fail(doc.error().message);
      return std::optional<json::Document>(std::move(*doc));
    }
    if (r->status >= 400 && r->status < 500) return std::optional<json::Document>();
    return fail(what + " at " + url + ": " + oauth_error_text(*r));
  }

  /// Authorization server metadata of `issuer`. `strict`: the metadata's issuer must equal
  /// `issuer` exactly (RFC 8414 3.3); 2025-03-26 servers (no resource metadata) predate
  /// that rule and only get a warning.
  Result<std::optional<AsMetadata>> authorization_server(const std::string& issuer, bool strict) {
    auto iu = parse_url(issuer);
    if (!iu) return fail("the authorization server '" + issuer + "' is not a URL");
    for (const auto& url : authorization_server_metadata_urls(*iu)) {
      auto got = fetch_metadata(url, "authorization server metadata");
      if (!got) return fail(got.error().message);
      if (!*got) continue;
      const auto& doc = **got;
      AsMetadata m;
      m.issuer = str(doc, "issuer");
      if (m.issuer != issuer) {
        if (strict) {
          return fail("the authorization server metadata at " + url + " names the issuer '" +
                      m.issuer + "', not '" + issuer +
                      "' (RFC 8414 3.3); refusing to use it, it may be forged");
        }
        CLARIBI_LOG(warn, "authorization server metadata at "
                              << url << " names the issuer '" << m.issuer << "', not '" << issuer
                              << "'; accepted for this 2025-03-26 server");
        if (m.issuer.empty()) m.issuer = issuer;
      }
      m.authorization_endpoint = str(doc, "authorization_endpoint");
      m.token_endpoint = str(doc, "token_endpoint");
      m.registration_endpoint = str(doc, "registration_endpoint");
      m.device_authorization_endpoint = str(doc, "device_authorization_endpoint");
      m.scopes_supported = string_array(json::member(doc, "scopes_supported"));
      m.has_auth_methods = json::member(doc, "token_endpoint_auth_methods_supported") != nullptr;
      m.auth_methods = string_array(json::member(doc, "token_endpoint_auth_methods_supported"));
      m.has_challenge_methods = json::member(doc, "code_challenge_methods_supported") != nullptr;
      m.challenge_methods = string_array(json::member(doc, "code_challenge_methods_supported"));
      const auto* iss = json::member(doc, "authorization_response_iss_parameter_supported");
      m.iss_supported = iss != nullptr && iss->IsBool() && iss->GetBool();
      const auto* cimd = json::member(doc, "client_id_metadata_document_supported");
      m.cimd_supported = cimd != nullptr && cimd->IsBool() && cimd->GetBool();
      if (m.token_endpoint.empty()) {
        return fail("the authorization server metadata at " + url + " has no token_endpoint");
      }
      CLARIBI_LOG(debug, "authorization server metadata from " << url);
      return std::optional<AsMetadata>(std::move(m));
    }
    return std::optional<AsMetadata>();
  }

  Result<Discovery> discover(const Challenge& c) {
    Discovery d;
    std::vector<std::string> prm_urls;
    if (!c.resource_metadata.empty()) prm_urls.push_back(c.resource_metadata);
    for (auto& u : resource_metadata_urls(o.server)) {
      if (!contains(prm_urls, u)) prm_urls.push_back(std::move(u));
    }
    std::optional<json::Document> prm;
    std::string prm_url;
    for (const auto& url : prm_urls) {
      auto got = fetch_metadata(url, "protected resource metadata");
      if (!got) {
        if (url == c.resource_metadata) {
          CLARIBI_LOG(warn, got.error().message << "; trying the well-known locations");
          continue;
        }
        return fail(got.error().message);
      }
      if (*got) {
        prm = std::move(*got);
        prm_url = url;
        break;
      }
    }
    if (prm) {
      d.resource = str(*prm, "resource");
      if (d.resource.empty()) {
        return fail("the protected resource metadata at " + prm_url + " has no 'resource'");
      }
      if (!resource_matches(d.resource, o.server)) {
        return fail("the protected resource metadata at " + prm_url + " is for '" + d.resource +
                    "', not for " + display_url(o.server) +
                    " (RFC 9728 3.3); refusing to send credentials for another resource");
      }
      d.prm_scopes = string_array(json::member(*prm, "scopes_supported"));
      auto servers = string_array(json::member(*prm, "authorization_servers"));
      if (servers.empty()) {
        return fail("the protected resource metadata at " + prm_url +
                    " names no authorization server");
      }
      auto as = authorization_server(servers.front(), true);
      if (!as) return fail(as.error().message);
      if (!*as) {
        return fail("no metadata found for the authorization server " + servers.front() +
                    " (tried RFC 8414 and OpenID Connect discovery)");
      }
      d.as = std::move(**as);
      CLARIBI_LOG(info, "authorization server: " << d.as.issuer);
      return d;
    }
    // A 2025-03-26 server: no resource metadata; the authorization server is the MCP
    // server's origin, with its metadata or else the default endpoints.
    auto origin = o.server.scheme + "://" + o.server.host +
                  (o.server.port.empty() ? "" : ":" + o.server.port);
    auto canonical = keychain::canonical_server(o.server.text);
    d.resource = canonical ? *canonical : o.server.text;
    auto as = authorization_server(origin, false);
    if (!as) return fail(as.error().message);
    if (*as) {
      d.as = std::move(**as);
    } else {
      CLARIBI_LOG(info, "no authorization metadata found; using the default endpoints of "
                            << origin << " (MCP 2025-03-26)");
      d.as.issuer = origin;
      d.as.authorization_endpoint = origin + "/authorize";
      d.as.token_endpoint = origin + "/token";
      d.as.registration_endpoint = origin + "/register";
      d.as.from_metadata = false;
    }
    return d;
  }

  // ---- scopes --------------------------------------------------------------------------

  std::vector<std::string> choose_scopes(const Challenge& c, const Discovery& d) {
    std::vector<std::string> scopes;
    if (!o.scope.empty()) {
      scopes = split_words(o.scope);
    } else if (!c.scope.empty()) {
      scopes = split_words(c.scope);
    } else {
      scopes = d.prm_scopes;
    }
    if (c.insufficient_scope()) {
      // Step-up keeps what was granted before (SEP-2350: the union).
      for (const auto& s : requested_scopes) {
        if (!contains(scopes, s)) scopes.push_back(s);
      }
    }
    if (!scopes.empty() && contains(d.as.scopes_supported, "offline_access") &&
        !contains(scopes, "offline_access")) {
      scopes.emplace_back("offline_access");  // a refresh token spares the next login
    }
    return scopes;
  }

  // ---- client identity -------------------------------------------------------------------

  std::string pick_auth_method(const AsMetadata& as, bool have_secret) {
    if (!have_secret) return "none";
    if (!as.has_auth_methods) return "client_secret_basic";  // RFC 8414's default
    if (contains(as.auth_methods, "client_secret_basic")) return "client_secret_basic";
    if (contains(as.auth_methods, "client_secret_post")) return "client_secret_post";
    return "client_secret_basic";
  }

  Result<Client> pre_registered(const AsMetadata& as) {
    Client cl;
    cl.id = o.client_id;
    auto key = get_secret(SecretKind::client_key);
    if (!key) return fail(key.error().message);
    if (*key) {
      cl.private_key = **key;
      cl.auth_method = "private_key_jwt";
      return cl;
    }
    auto secret = get_secret(SecretKind::client_secret);
    if (!secret) return fail(secret.error().message);
    if (*secret) {
      cl.secret = **secret;
      log::add_secret(cl.secret);
    }
    cl.auth_method = pick_auth_method(as, !cl.secret.empty());
    return cl;
  }

  Result<Client> register_client(const Discovery& d, const std::string& redirect_uri,
                                 bool device = false) {
    if (d.as.registration_endpoint.empty()) {
      std::string hint =
          "pass --client-id for a client registered with it (its secret with "
          "'claribi-bridge key set --client-secret URL')";
      if (d.as.cimd_supported) hint += ", or --client-metadata-url";
      return fail("the authorization server " + d.as.issuer +
                  " offers no Dynamic Client Registration; " + hint);
    }
    std::string method = "none";
    if (d.as.has_auth_methods && !contains(d.as.auth_methods, "none")) {
      method = contains(d.as.auth_methods, "client_secret_basic")  ? "client_secret_basic"
               : contains(d.as.auth_methods, "client_secret_post") ? "client_secret_post"
                                                                   : "client_secret_basic";
    }
    std::string body =
        "{\"client_name\":\"claribi-bridge\"," +
        (device ? std::string("\"grant_types\":[\"urn:ietf:params:oauth:grant-type:device_code\","
                              "\"refresh_token\"],")
                : "\"redirect_uris\":[" + json::quote(redirect_uri) +
                      "],\"grant_types\":[\"authorization_code\",\"refresh_token\"],"
                      "\"response_types\":[\"code\"],") +
        "\"application_type\":\"native\",\"token_endpoint_auth_method\":" + json::quote(method) +
        ",\"software_id\":\"claribi-bridge\","
        "\"software_version\":\"" CLARIBI_VERSION "\"}";
    auto r = http.post(d.as.registration_endpoint, "application/json", body);
    if (!r) return fail("client registration failed: " + r.error().message);
    if (r->status != 200 && r->status != 201) {
      return fail("client registration at " + d.as.registration_endpoint +
                  " was refused: " + oauth_error_text(*r));
    }
    auto doc = json_object(*r, "the client registration answer");
    if (!doc) return fail(doc.error().message);
    Client cl;
    cl.id = str(*doc, "client_id");
    if (cl.id.empty()) return fail("the client registration answer has no client_id");
    cl.secret = str(*doc, "client_secret");
    if (!cl.secret.empty()) log::add_secret(cl.secret);
    cl.auth_method = str(*doc, "token_endpoint_auth_method");
    if (cl.auth_method.empty()) {
      cl.auth_method =
          cl.secret.empty() ? "none" : (method == "none" ? "client_secret_basic" : method);
    }
    cl.registered = true;
    store_registration(d.as.issuer, Registration{cl.id, cl.secret, cl.auth_method, redirect_uri});
    CLARIBI_LOG(info, "registered as client " << cl.id << " with " << d.as.issuer);
    return cl;
  }

  static Client from_registration(const Registration& reg) {
    Client cl;
    cl.id = reg.client_id;
    cl.secret = reg.client_secret;
    cl.auth_method = reg.auth_method.empty() ? "none" : reg.auth_method;
    cl.registered = true;
    return cl;
  }

  /// `cached`: the registration stored for this authorization server, if any.
  Result<Client> client_for(const Discovery& d, const std::string& redirect_uri,
                            const std::optional<Registration>& cached) {
    if (!o.client_id.empty()) return pre_registered(d.as);
    if (!o.client_metadata_url.empty() && d.as.cimd_supported) {
      Client cl;
      cl.id = o.client_metadata_url;
      return cl;
    }
    if (cached && cached->redirect_uri == redirect_uri) return from_registration(*cached);
    return register_client(d, redirect_uri);
  }

  // ---- the token endpoint ------------------------------------------------------------------

  /// Adds the client's authentication to a token request (RFC 6749 2.3, RFC 7523 2.2).
  Result<void> authenticate(Form& form, std::vector<std::string>& headers, const Client& cl,
                            const std::string& audience) {
    if (cl.auth_method == "client_secret_basic") {
      auto pair = percent_encode(cl.id) + ":" + percent_encode(cl.secret);
      headers.push_back("Authorization: Basic " + base64::encode(pair.data(), pair.size()));
    } else if (cl.auth_method == "client_secret_post") {
      form.emplace_back("client_id", cl.id);
      form.emplace_back("client_secret", cl.secret);
    } else if (cl.auth_method == "private_key_jwt") {
      auto jti = random_token(16);
      if (!jti) return fail(jti.error().message);
      auto now = now_seconds();
      std::string claims = "{\"iss\":" + json::quote(cl.id) + ",\"sub\":" + json::quote(cl.id) +
                           ",\"aud\":" + json::quote(audience) + ",\"iat\":" + std::to_string(now) +
                           ",\"exp\":" + std::to_string(now + 300) +
                           ",\"jti\":" + json::quote(*jti) + "}";
      auto jwt = sign_jwt(cl.private_key, claims);
      if (!jwt) return fail(jwt.error().message);
      form.emplace_back("client_id", cl.id);
      form.emplace_back("client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
      form.emplace_back("client_assertion", *jwt);
    } else {
      form.emplace_back("client_id", cl.id);
    }
    return {};
  }

  Result<TokenSet> token_request(Form form, const Client& cl, const Discovery& d,
                                 std::string* error_code = nullptr) {
    if (!d.resource.empty()) form.emplace_back("resource", d.resource);
    std::vector<std::string> headers;
    if (auto a = authenticate(form, headers, cl, d.as.issuer); !a) return fail(a.error().message);
    auto r = http.post_form(d.as.token_endpoint, form, headers);
    if (!r) return fail("token request failed: " + r.error().message);
    if (r->status != 200) {
      return fail("the token endpoint refused (" + oauth_error_text(*r, error_code) + ")");
    }
    auto doc = json_object(*r, "the token answer");
    if (!doc) return fail(doc.error().message);
    TokenSet t;
    t.access_token = str(*doc, "access_token");
    if (t.access_token.empty()) return fail("the token answer has no access_token");
    log::add_secret(t.access_token);
    t.token_type = str(*doc, "token_type");
    if (t.token_type.empty() || text::lower(t.token_type) == "bearer") t.token_type = "Bearer";
    t.refresh_token = str(*doc, "refresh_token");
    if (!t.refresh_token.empty()) log::add_secret(t.refresh_token);
    t.scope = str(*doc, "scope");
    t.obtained_at = now_seconds();
    if (const auto* e = json::member(*doc, "expires_in"); e != nullptr && e->IsNumber()) {
      // At most ten years: a longer lifetime is a broken answer, and the sum must not overflow.
      t.expires_at = t.obtained_at + json::clamped_int(e, 0, 10LL * 365 * 24 * 3600, 0);
    }
    t.issuer = d.as.issuer;
    t.token_endpoint = d.as.token_endpoint;
    t.client_id = cl.id;
    t.auth_method = cl.auth_method;
    t.resource = d.resource;
    return t;
  }

  // ---- grants --------------------------------------------------------------------------------

  Result<TokenSet> refresh_grant(const TokenSet& old) {
    if (old.refresh_token.empty()) return fail("no refresh token is stored");
    Discovery d;
    d.resource = old.resource;
    d.as.issuer = old.issuer;
    d.as.token_endpoint = old.token_endpoint;
    Client cl;
    cl.id = old.client_id;
    cl.auth_method = old.auth_method.empty() ? "none" : old.auth_method;
    if (cl.auth_method == "private_key_jwt" || (!o.client_id.empty() && o.client_id == cl.id)) {
      auto pre = pre_registered(d.as);
      if (!pre) return fail(pre.error().message);
      cl.secret = pre->secret;
      cl.private_key = pre->private_key;
    } else if (cl.auth_method != "none") {
      auto reg = cached_registration(old.issuer);
      if (!reg || reg->client_id != cl.id) {
        return fail("the registration of client " + cl.id + " is no longer stored");
      }
      cl.secret = reg->client_secret;
    }
    Form form{{"grant_type", "refresh_token"}, {"refresh_token", old.refresh_token}};
    auto t = token_request(std::move(form), cl, d);
    if (!t) return fail(t.error().message);
    if (t->refresh_token.empty()) t->refresh_token = old.refresh_token;
    if (t->scope.empty()) t->scope = old.scope;
    return t;
  }

  Result<TokenSet> client_credentials_grant(const Challenge& c, const Discovery& d) {
    if (o.client_id.empty()) {
      return fail(
          "--client-credentials needs --client-id, and the client's secret ('claribi-"
          "bridge key set --client-secret URL') or private key ('--client-key')");
    }
    auto cl = pre_registered(d.as);
    if (!cl) return fail(cl.error().message);
    if (cl->auth_method == "none") {
      return fail("no secret or private key is stored for client " + o.client_id +
                  "; store one with 'claribi-bridge key set --client-secret URL' or "
                  "'--client-key'");
    }
    Form form{{"grant_type", "client_credentials"}};
    auto scopes = choose_scopes(c, d);
    scopes.erase(std::remove(scopes.begin(), scopes.end(), "offline_access"), scopes.end());
    if (!scopes.empty()) form.emplace_back("scope", join_words(scopes));
    return token_request(std::move(form), *cl, d);
  }

  /// Enterprise-managed authorization (SEP-990): the identity provider's ID token is
  /// exchanged for an identity assertion grant (RFC 8693), which the authorization server
  /// takes in a JWT bearer grant (RFC 7523).
  Result<TokenSet> enterprise_grant(const Challenge& c, const Discovery& d) {
    auto id_token = get_secret(SecretKind::idp_token);
    if (!id_token) return fail(id_token.error().message);
    if (!*id_token) {
      return fail(
          "no identity provider ID token is stored; store it with 'claribi-bridge key "
          "set --idp-token URL'");
    }
    log::add_secret(**id_token);
    auto scopes = choose_scopes(c, d);
    Form exchange{{"grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"},
                  {"requested_token_type", "urn:ietf:params:oauth:token-type:id-jag"},
                  {"audience", d.as.issuer},
                  {"resource", d.resource},
                  {"subject_token", **id_token},
                  {"subject_token_type", "urn:ietf:params:oauth:token-type:id_token"}};
    if (!o.idp_client_id.empty()) exchange.emplace_back("client_id", o.idp_client_id);
    if (!scopes.empty()) exchange.emplace_back("scope", join_words(scopes));
    auto r = http.post_form(o.idp_token_endpoint, exchange);
    if (!r) return fail("token exchange at the identity provider failed: " + r.error().message);
    if (r->status != 200) {
      return fail("the identity provider refused the token exchange (" + oauth_error_text(*r) +
                  ")");
    }
    auto doc = json_object(*r, "the token exchange answer");
    if (!doc) return fail(doc.error().message);
    auto grant = str(*doc, "access_token");
    if (grant.empty()) return fail("the token exchange answer has no access_token");
    log::add_secret(grant);
    if (o.client_id.empty()) return fail("enterprise-managed authorization needs --client-id");
    auto cl = pre_registered(d.as);
    if (!cl) return fail(cl.error().message);
    Form form{{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, {"assertion", grant}};
    if (!scopes.empty()) form.emplace_back("scope", join_words(scopes));
    Discovery no_resource = d;  // the resource is inside the assertion
    no_resource.resource.clear();
    return token_request(std::move(form), *cl, no_resource);
  }

  /// The authorization code grant through the browser (or a pasted redirect URL).
  Result<TokenSet> code_grant(const Challenge& c, const Discovery& d) {
    if (d.as.from_metadata &&
        (!d.as.has_challenge_methods || !contains(d.as.challenge_methods, "S256"))) {
      return fail("the authorization server " + d.as.issuer +
                  " does not advertise PKCE with S256 (code_challenge_methods_supported); "
                  "the bridge will not log in without it");
    }
    if (d.as.authorization_endpoint.empty()) {
      return fail("the authorization server metadata has no authorization_endpoint");
    }
    for (int attempt = 0;; ++attempt) {
      // Reuse the port of an earlier registration, so its redirect URI still matches.
      int port = o.callback_port;
      std::optional<Registration> reg;
      if (o.client_id.empty()) reg = cached_registration(d.as.issuer);
      if (reg && port == 0) {
        auto u = parse_url(reg->redirect_uri);
        if (u && !u->port.empty()) port = std::atoi(u->port.c_str());
      }
      auto listener = CallbackListener::open(port);
      if (!listener && port != 0 && o.callback_port == 0) listener = CallbackListener::open(0);
      if (!listener) return fail(listener.error().message);
      auto redirect_uri = (*listener)->redirect_uri();
      auto cl = client_for(d, redirect_uri, reg);
      if (!cl) return fail(cl.error().message);
      auto pkce = make_pkce();
      auto state = random_token(24);
      if (!pkce || !state) return fail("cannot make the login's random values");
      auto scopes = choose_scopes(c, d);
      Form query{{"response_type", "code"},           {"client_id", cl->id},
                 {"redirect_uri", redirect_uri},      {"state", *state},
                 {"code_challenge", pkce->challenge}, {"code_challenge_method", "S256"}};
      if (!d.resource.empty()) query.emplace_back("resource", d.resource);
      if (!scopes.empty()) query.emplace_back("scope", join_words(scopes));
      auto url = append_query(d.as.authorization_endpoint, query);
      log::add_secret(pkce->verifier);
      announce(url);
      Result<Form> params = fail("");
      if (o.interaction == Interaction::manual) {
        params = read_pasted_redirect(*state);
      } else {
        params = (*listener)->wait(*state, std::chrono::milliseconds(o.login_timeout_ms));
      }
      if (!params) return fail(params.error().message);
      auto value = [&params](const char* name) -> std::optional<std::string> {
        for (const auto& [k, v] : *params) {
          if (k == name) return v;
        }
        return std::nullopt;
      };
      auto finish = [&](bool ok, const std::string& message) { (*listener)->finish(ok, message); };
      if (auto err = value("error")) {
        auto desc = value("error_description").value_or("");
        if (cl->registered && attempt == 0 &&
            (*err == "invalid_client" || *err == "unauthorized_client")) {
          finish(false,
                 "The authorization server no longer knows this client; claribi-bridge "
                 "registers again and opens a new sign-in page.");
          store_registration(d.as.issuer, std::nullopt);
          continue;
        }
        auto msg = "the authorization server refused the login: " + *err +
                   (desc.empty() ? "" : " (" + desc + ")");
        finish(false, "Sign-in did not complete: " + *err + (desc.empty() ? "" : " — " + desc));
        return fail(msg);
      }
      // RFC 9207: the response names its issuer; it must be the one we asked.
      auto iss = value("iss");
      if (iss && *iss != d.as.issuer) {
        finish(false, "The sign-in response came from an unexpected issuer; it was rejected.");
        return fail("the authorization response names the issuer '" + *iss + "', not '" +
                    d.as.issuer + "' (RFC 9207): possible mix-up attack, login abandoned");
      }
      if (!iss && d.as.iss_supported) {
        finish(false, "The sign-in response lacks the issuer it must carry; it was rejected.");
        return fail(
            "the authorization server advertises the iss parameter but the response "
            "has none (RFC 9207): login abandoned");
      }
      auto code = value("code");
      if (!code || code->empty()) {
        finish(false, "The sign-in response carries no authorization code.");
        return fail("the authorization response carries no code");
      }
      log::add_secret(*code);
      std::string error_code;
      auto t = token_request({{"grant_type", "authorization_code"},
                              {"code", *code},
                              {"redirect_uri", redirect_uri},
                              {"code_verifier", pkce->verifier}},
                             *cl, d, &error_code);
      if (!t) {
        if (cl->registered && error_code == "invalid_client") {
          store_registration(d.as.issuer, std::nullopt);  // register again next time
        }
        finish(false, "Sign-in did not complete: " + t.error().message);
        return fail(t.error().message);
      }
      if (t->scope.empty()) t->scope = join_words(scopes);
      for (const auto& s : scopes) {
        if (!contains(requested_scopes, s)) requested_scopes.push_back(s);
      }
      finish(true, "claribi-bridge is signed in to " + display_url(o.server) +
                       ". You can close this tab and return to your MCP client.");
      return t;
    }
  }

  void announce(const std::string& url) {
    if (o.interaction == Interaction::browser) {
      if (auto b = open_browser(url); !b) {
        log::write(log::Level::warn, "could not open a browser (" + b.error().message +
                                         "). To sign in, open this URL: " + url);
        return;
      }
      log::write(log::Level::info,
                 "opened the browser to sign in; if nothing appeared, open: " + url);
      return;
    }
    log::write(log::Level::warn,
               "To sign in to " + display_url(o.server) + ", open this URL in a browser: " + url);
    if (o.interaction == Interaction::manual) {
      log::write(log::Level::warn,
                 "Then paste here the full address the browser ends on (it starts with "
                 "http://127.0.0.1) and press Enter.");
    }
  }

  Result<Form> read_pasted_redirect(const std::string& state) {
    if (!o.read_line) return fail("no terminal to read the redirect URL from");
    auto line = o.read_line();
    if (!line) return fail("no redirect URL was pasted");
    auto s = std::string(text::trim(*line));
    auto q = s.find('?');
    if (q == std::string::npos) return fail("the pasted text is not the redirect URL (no '?')");
    auto params = parse_query(std::string_view(s).substr(q + 1, s.find('#') - q - 1));
    for (const auto& [k, v] : params) {
      if (k == "state" && v == state) return params;
    }
    return fail("the pasted URL does not belong to this login (state mismatch)");
  }

  /// The device authorization grant (RFC 8628): the user signs in on another device.
  Result<TokenSet> device_grant(const Challenge& c, const Discovery& d) {
    if (d.as.device_authorization_endpoint.empty()) {
      return fail("the authorization server " + d.as.issuer +
                  " does not offer the device authorization grant; use 'login --manual'");
    }
    Result<Client> cl = fail("");
    if (!o.client_id.empty()) {
      cl = pre_registered(d.as);
    } else if (auto reg = cached_registration(d.as.issuer + "#device")) {
      cl = from_registration(*reg);
    } else {
      Discovery keyed = d;
      keyed.as.issuer = d.as.issuer + "#device";  // a registration of its own
      cl = register_client(keyed, "", true);
    }
    if (!cl) return fail(cl.error().message);
    auto scopes = choose_scopes(c, d);
    Form form;
    if (!scopes.empty()) form.emplace_back("scope", join_words(scopes));
    if (!d.resource.empty()) form.emplace_back("resource", d.resource);
    std::vector<std::string> headers;
    if (auto a = authenticate(form, headers, *cl, d.as.issuer); !a) return fail(a.error().message);
    auto r = http.post_form(d.as.device_authorization_endpoint, form, headers);
    if (!r) return fail("device authorization failed: " + r.error().message);
    if (r->status != 200) {
      return fail("the device authorization endpoint refused (" + oauth_error_text(*r) + ")");
    }
    auto doc = json_object(*r, "the device authorization answer");
    if (!doc) return fail(doc.error().message);
    auto device_code = str(*doc, "device_code");
    auto user_code = str(*doc, "user_code");
    auto uri = str(*doc, "verification_uri");
    auto complete = str(*doc, "verification_uri_complete");
    if (device_code.empty() || user_code.empty() || uri.empty()) {
      return fail(
          "the device authorization answer lacks device_code, user_code or "
          "verification_uri");
    }
    log::add_secret(device_code);
    long interval = 5;
    if (const auto* i = json::member(*doc, "interval"); i != nullptr && i->IsNumber()) {
      interval = static_cast<long>(json::clamped_int(i, 1, 600, 5));
    }
    long expires = o.login_timeout_ms / 1000;
    if (const auto* e = json::member(*doc, "expires_in"); e != nullptr && e->IsNumber()) {
      expires =
          std::min<long>(expires, static_cast<long>(json::clamped_int(e, 0, expires, expires)));
    }
    log::write(log::Level::warn, "To sign in to " + display_url(o.server) + ", visit " + uri +
                                     " on any device and enter the code " + user_code +
                                     (complete.empty() ? "" : " (or open " + complete + ")"));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(expires);
    for (;;) {
      std::this_thread::sleep_for(std::chrono::seconds(interval));
      if (std::chrono::steady_clock::now() > deadline) {
        return fail("the code was not entered within " + std::to_string(expires) + " s");
      }
      std::string error_code;
      auto t = token_request({{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
                              {"device_code", device_code}},
                             *cl, d, &error_code);
      if (t) {
        if (t->scope.empty()) t->scope = join_words(scopes);
        return t;
      }
      if (error_code == "authorization_pending") continue;
      if (error_code == "slow_down") {
        interval += 5;
        continue;
      }
      return fail(t.error().message);
    }
  }

  Result<TokenSet> login(const Challenge& c) {
    auto d = discover(c);
    if (!d) return fail(d.error().message);
    Result<TokenSet> t = fail("");
    if (o.interaction == Interaction::device) {
      t = device_grant(c, *d);
    } else if (o.client_credentials) {
      t = client_credentials_grant(c, *d);
    } else if (!o.idp_token_endpoint.empty()) {
      t = enterprise_grant(c, *d);
    } else {
      t = code_grant(c, *d);
    }
    if (!t) return t;
    save(*t);
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

Authorizer::Authorizer(Options options)
    : m_options(std::move(options)), m(std::make_unique<Impl>(m_options)) {
  if (m_options.lock_path.empty()) m_options.lock_path = lock_path_for(m_options.account_server);
}

Authorizer::~Authorizer() = default;

Result<std::optional<TokenSet>> Authorizer::load() {
  std::lock_guard<std::mutex> guard(m_mutex);
  return m->load();
}

namespace {

bool covers(const std::string& granted, const std::string& wanted) {
  auto g = split_words(granted);
  for (const auto& w : split_words(wanted)) {
    if (!contains(g, w)) return false;
  }
  return true;
}

}  // namespace

Result<TokenSet> Authorizer::authorize(const Challenge& c, const std::string& rejected) {
  std::lock_guard<std::mutex> guard(m_mutex);
  auto lock = FileLock::acquire(m_options.lock_path,
                                std::chrono::milliseconds(m_options.login_timeout_ms + 60000));
  if (!lock) return fail(lock.error().message);
  auto stored = m->load();
  std::optional<TokenSet> current = stored ? *stored : std::nullopt;
  if (current && current->access_token != rejected &&
      (!c.insufficient_scope() || covers(current->scope, c.scope))) {
    CLARIBI_LOG(info, "using the tokens another claribi-bridge obtained meanwhile");
    return *current;
  }
  if (c.insufficient_scope()) {
    if (current && !c.scope.empty() && covers(current->scope, c.scope)) {
      return fail(
          "the server refuses with insufficient_scope although the token holds the "
          "scopes it names (" +
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
    auto r = m->refresh_grant(*current);
    if (r) {
      m->save(*r);
      CLARIBI_LOG(info, "refreshed the access token after the server refused it");
      return r;
    }
    CLARIBI_LOG(warn,
                "refreshing the tokens failed (" << r.error().message << "); logging in again");
    current->refresh_token.clear();
    m->save(*current);  // the dead refresh token is never tried again
  }
  return m->login(c);
}

Result<TokenSet> Authorizer::refresh(const std::string& current_token) {
  std::lock_guard<std::mutex> guard(m_mutex);
  auto lock = FileLock::acquire(m_options.lock_path,
                                std::chrono::milliseconds(m_options.login_timeout_ms + 60000));
  if (!lock) return fail(lock.error().message);
  auto stored = m->load();
  if (!stored || !*stored) return fail("no tokens are stored");
  auto current = **stored;
  if (current.access_token != current_token) return current;  // someone else refreshed
  auto r = m->refresh_grant(current);
  if (!r) return fail(r.error().message);
  m->save(*r);
  return r;
}

Result<TokenSet> Authorizer::login(const Challenge& c) {
  std::lock_guard<std::mutex> guard(m_mutex);
  auto lock = FileLock::acquire(m_options.lock_path,
                                std::chrono::milliseconds(m_options.login_timeout_ms + 60000));
  if (!lock) return fail(lock.error().message);
  return m->login(c);
}

}  // namespace claribi::oauth
