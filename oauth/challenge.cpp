#include "oauth/oauth.hpp"

#include "util/json.hpp"
#include "util/text.hpp"

#include <chrono>

namespace claribi::oauth {
namespace {

bool tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

/// A small cursor over a WWW-Authenticate value.
struct Scanner {
  std::string_view s;
  std::size_t i = 0;

  void spaces() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  }
  std::string token() {
    auto start = i;
    while (i < s.size() && tchar(s[i])) ++i;
    return std::string(s.substr(start, i - start));
  }
  std::string quoted() {  // at the opening quote
    std::string out;
    ++i;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      out.push_back(s[i++]);
    }
    if (i < s.size()) ++i;
    return out;
  }
};

}  // namespace

Challenge parse_challenge(long status, std::string_view header) {
  Challenge c;
  c.status = status;
  Scanner sc{header};
  bool in_bearer = false;
  while (sc.i < header.size()) {
    sc.spaces();
    if (sc.i < header.size() && header[sc.i] == ',') {
      ++sc.i;
      continue;
    }
    auto word = sc.token();
    if (word.empty()) {
      ++sc.i;  // not a token: skip the character
      continue;
    }
    sc.spaces();
    if (sc.i < header.size() && header[sc.i] == '=') {
      // An auth-param of the current challenge (or a token68 ending in '=').
      ++sc.i;
      sc.spaces();
      std::string value;
      if (sc.i < header.size() && header[sc.i] == '"') {
        value = sc.quoted();
      } else {
        value = sc.token();
        while (sc.i < header.size() && header[sc.i] == '=') value.push_back(header[sc.i++]);
      }
      if (!in_bearer) continue;
      auto name = text::lower(word);
      if (name == "resource_metadata") c.resource_metadata = value;
      if (name == "scope") c.scope = value;
      if (name == "error") c.error = value;
      if (name == "error_description") c.error_description = value;
    } else {
      // A new challenge's scheme: Bearer, or DPoP (RFC 9449 7.1), whose parameters mean
      // the same.
      auto scheme = text::lower(word);
      in_bearer = scheme == "bearer" || scheme == "dpop";
      // A token68 may follow the scheme; it carries nothing we use.
    }
  }
  return c;
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string TokenSet::to_json() const {
  std::string out = "{\"access_token\":" + json::quote(access_token) +
                    ",\"token_type\":" + json::quote(token_type);
  auto add = [&out](const char* name, const std::string& v) {
    if (!v.empty()) out += ",\"" + std::string(name) + "\":" + json::quote(v);
  };
  add("refresh_token", refresh_token);
  add("scope", scope);
  if (expires_at != 0) out += ",\"expires_at\":" + std::to_string(expires_at);
  if (obtained_at != 0) out += ",\"obtained_at\":" + std::to_string(obtained_at);
  add("issuer", issuer);
  add("token_endpoint", token_endpoint);
  add("client_id", client_id);
  add("auth_method", auth_method);
  add("resource", resource);
  add("dpop_jkt", dpop_jkt);
  return out + "}";
}

Result<TokenSet> TokenSet::from_json(std::string_view text) {
  json::Document doc;
  if (!json::parse(doc, text) || !doc.IsObject()) return fail("the stored token set is not JSON");
  TokenSet t;
  auto str = [&doc](const char* name) {
    return std::string(json::string_or_empty(json::member(doc, name)));
  };
  auto num = [&doc](const char* name) -> std::int64_t {
    // Seconds since 1970: anything past year 275,000 is a broken value, not a date.
    return json::clamped_int(json::member(doc, name), 0, std::int64_t{1} << 53, 0);
  };
  t.access_token = str("access_token");
  if (t.access_token.empty()) return fail("the stored token set has no access token");
  t.token_type = str("token_type");
  if (t.token_type.empty()) t.token_type = "Bearer";
  t.refresh_token = str("refresh_token");
  t.scope = str("scope");
  t.expires_at = num("expires_at");
  t.obtained_at = num("obtained_at");
  t.issuer = str("issuer");
  t.token_endpoint = str("token_endpoint");
  t.client_id = str("client_id");
  t.auth_method = str("auth_method");
  t.resource = str("resource");
  t.dpop_jkt = str("dpop_jkt");
  return t;
}

namespace {

std::string origin_of(const Url& u) {
  return u.scheme + "://" + u.host + (u.port.empty() ? "" : ":" + u.port);
}

std::string path_without_trailing_slash(std::string path) {
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

std::vector<std::string> resource_metadata_urls(const Url& server) {
  const std::string wk = "/.well-known/oauth-protected-resource";
  auto path = path_without_trailing_slash(server.path);
  std::vector<std::string> out;
  if (!path.empty() || !server.query.empty()) {
    out.push_back(origin_of(server) + wk + path + (server.query.empty() ? "" : "?" + server.query));
  }
  out.push_back(origin_of(server) + wk);
  return out;
}

std::vector<std::string> authorization_server_metadata_urls(const Url& issuer) {
  auto origin = origin_of(issuer);
  auto path = path_without_trailing_slash(issuer.path);
  if (path.empty()) {
    return {origin + "/.well-known/oauth-authorization-server",
            origin + "/.well-known/openid-configuration"};
  }
  return {origin + "/.well-known/oauth-authorization-server" + path,
          origin + "/.well-known/openid-configuration" + path,
          origin + path + "/.well-known/openid-configuration"};
}

bool resource_matches(std::string_view resource, const Url& server) {
  auto r = parse_url(resource);
  if (!r) return false;
  if (text::lower(r->scheme) != text::lower(server.scheme) ||
      text::lower(r->host) != text::lower(server.host) || r->port != server.port) {
    return false;
  }
  auto rp = path_without_trailing_slash(r->path);
  auto sp = path_without_trailing_slash(server.path);
  if (sp.compare(0, rp.size(), rp) != 0) return false;
  if (sp.size() > rp.size() && sp[rp.size()] != '/') return false;
  return r->query.empty() || r->query == server.query;
}

}  // namespace claribi::oauth
