#include "oauth/discovery.hpp"

#include "keychain/keychain.hpp"
#include "oauth/scopes.hpp"
#include "util/log.hpp"

#include <optional>

namespace claribi::oauth {
namespace {

/// Fetches `url`; a JSON object on 200, nullopt on 4xx (not there), an error otherwise.
Result<std::optional<json::Document>> fetch_metadata(HttpClient& http, const std::string& url,
                                                     const std::string& what) {
  auto r = http.get(url);
  if (!r) return fail(r.error().message);
  if (r->status == 200) {
    auto doc = json_object(r->status, r->body, what + " at " + url);
    if (!doc) return fail(doc.error().message);
    return std::optional<json::Document>(std::move(*doc));
  }
  if (r->status >= 400 && r->status < 500) return std::optional<json::Document>();
  return fail(what + " at " + url + ": " + error_text(r->status, r->body));
}

/// Authorization server metadata of `issuer`. `strict`: the metadata's issuer must equal
/// `issuer` exactly (RFC 8414 3.3); 2025-03-26 servers (no resource metadata) predate that
/// rule and only get a warning.
Result<std::optional<AsMetadata>> authorization_server(HttpClient& http, const std::string& issuer,
                                                       bool strict) {
  auto iu = parse_url(issuer);
  if (!iu) return fail("the authorization server '" + issuer + "' is not a URL");
  for (const auto& url : authorization_server_metadata_urls(*iu)) {
    auto got = fetch_metadata(http, url, "authorization server metadata");
    if (!got) return fail(got.error().message);
    if (!*got) continue;
    auto m = read_as_metadata(**got);
    if (!m) return fail(m.error().message + " (" + url + ")");
    if (m->issuer != issuer) {
      if (strict) {
        return fail("the authorization server metadata at " + url + " names the issuer '" +
                    m->issuer + "', not '" + issuer +
                    "' (RFC 8414 3.3); refusing to use it, it may be forged");
      }
      CLARIBI_LOG(warn, "authorization server metadata at "
                            << url << " names the issuer '" << m->issuer << "', not '" << issuer
                            << "'; accepted for this 2025-03-26 server");
      if (m->issuer.empty()) m->issuer = issuer;
    }
    CLARIBI_LOG(debug, "authorization server metadata from " << url);
    return std::optional<AsMetadata>(std::move(*m));
  }
  return std::optional<AsMetadata>();
}

}  // namespace

Result<Discovery> discover(HttpClient& http, const Url& server, const Challenge& c) {
  Discovery d;
  std::vector<std::string> prm_urls;
  if (!c.resource_metadata.empty()) prm_urls.push_back(c.resource_metadata);
  for (auto& u : resource_metadata_urls(server)) {
    if (!contains(prm_urls, u)) prm_urls.push_back(std::move(u));
  }
  std::optional<json::Document> prm;
  std::string prm_url;
  for (const auto& url : prm_urls) {
    auto got = fetch_metadata(http, url, "protected resource metadata");
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
    auto m = read_resource_metadata(*prm);
    if (!m) return fail(m.error().message + " (" + prm_url + ")");
    if (!resource_matches(m->resource, server)) {
      return fail("the protected resource metadata at " + prm_url + " is for '" + m->resource +
                  "', not for " + display_url(server) +
                  " (RFC 9728 3.3); refusing to send credentials for another resource");
    }
    d.resource = m->resource;
    d.prm_scopes = std::move(m->scopes_supported);
    const auto& issuer = m->authorization_servers.front();
    auto as = authorization_server(http, issuer, true);
    if (!as) return fail(as.error().message);
    if (!*as) {
      return fail("no metadata found for the authorization server " + issuer +
                  " (tried RFC 8414 and OpenID Connect discovery)");
    }
    d.as = std::move(**as);
    CLARIBI_LOG(info, "authorization server: " << d.as.issuer);
    return d;
  }
  // A 2025-03-26 server: no resource metadata; the authorization server is the MCP server's
  // origin, with its metadata or else the default endpoints.
  auto origin =
      server.scheme + "://" + server.host + (server.port.empty() ? "" : ":" + server.port);
  auto canonical = keychain::canonical_server(server.text);
  d.resource = canonical ? *canonical : server.text;
  auto as = authorization_server(http, origin, false);
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

}  // namespace claribi::oauth
