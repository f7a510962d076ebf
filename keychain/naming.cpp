#include "keychain/keychain.hpp"

#include "util/text.hpp"
#include "util/url.hpp"

namespace claribi::keychain {

std::string_view kind_name(SecretKind kind) {
  switch (kind) {
    case SecretKind::api_key:
      return "api-key";
    case SecretKind::oauth_tokens:
      return "oauth-tokens";
    case SecretKind::oauth_client:
      return "oauth-client";
    case SecretKind::client_secret:
      return "client-secret";
    case SecretKind::client_key:
      return "client-key";
    case SecretKind::idp_token:
      return "idp-token";
    case SecretKind::dpop_key:
      return "dpop-key";
  }
  return "unknown";
}

std::optional<SecretKind> parse_kind(std::string_view name) {
  for (auto k : {SecretKind::api_key, SecretKind::oauth_tokens, SecretKind::oauth_client,
                 SecretKind::client_secret, SecretKind::client_key, SecretKind::idp_token,
                 SecretKind::dpop_key}) {
    if (kind_name(k) == name) return k;
  }
  return std::nullopt;
}

Result<std::string> canonical_server(std::string_view text) {
  auto url = parse_url(text);
  if (!url) return fail(url.error().message);
  auto scheme = text::lower(url->scheme);
  std::string out = scheme + "://" + text::lower(url->host);
  bool default_port =
      (scheme == "https" && url->port == "443") || (scheme == "http" && url->port == "80");
  if (!url->port.empty() && !default_port) out += ":" + url->port;
  std::string path = url->path;
  if (!path.empty() && path.back() == '/') path.pop_back();
  out += path;
  if (!url->query.empty()) out += "?" + url->query;
  return out;
}

std::string login_server(const std::string& server, const std::string& resource) {
  return resource.empty() ? server : server + "#resource=" + resource;
}

std::string account_name(const std::string& server, SecretKind kind) {
  return server + "#" + std::string(kind_name(kind));
}

std::optional<Account> parse_account(std::string_view account) {
  auto hash = account.rfind('#');
  if (hash == std::string_view::npos) return std::nullopt;
  auto kind = parse_kind(account.substr(hash + 1));
  if (!kind) return std::nullopt;
  return Account{std::string(account.substr(0, hash)), *kind};
}

}  // namespace claribi::keychain
