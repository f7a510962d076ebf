#include "oauth/token_endpoint.hpp"

#include <algorithm>

#include "oauth/answers.hpp"
#include "oauth/crypto.hpp"
#include "oauth/scopes.hpp"
#include "util/base64.hpp"
#include "util/json.hpp"
#include "util/log.hpp"

namespace claribi::oauth {

Result<void> TokenEndpoint::authenticate(Form& form, std::vector<std::string>& headers,
                                         const Client& cl, const std::string& audience) {
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
    json::Document claims(rapidjson::kObjectType);
    auto& a = claims.GetAllocator();
    claims.AddMember("iss", json::Value(cl.id.c_str(), a), a);
    claims.AddMember("sub", json::Value(cl.id.c_str(), a), a);
    claims.AddMember("aud", json::Value(audience.c_str(), a), a);
    claims.AddMember("iat", json::Value(static_cast<std::int64_t>(now)), a);
    claims.AddMember("exp", json::Value(static_cast<std::int64_t>(now + 300)), a);
    claims.AddMember("jti", json::Value(jti->c_str(), a), a);
    auto jwt = sign_jwt(cl.private_key, json::to_string(claims));
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

Result<TokenSet> TokenEndpoint::request(Form form, const Client& cl, const Discovery& d,
                                        std::string* error_code) {
  if (!d.resource.empty()) form.emplace_back("resource", d.resource);
  std::shared_ptr<const DpopKey> key;
  if (contains(d.as.dpop_algs, "ES256")) {
    auto k = m_store.dpop_key(true);
    if (!k) return fail(k.error().message);
    key = *k;
    m_dpop.set_key(key);
  }
  Result<HttpResponse> r;
  for (int attempt = 0;; ++attempt) {
    auto sent = form;  // a client assertion and a proof are never sent twice
    std::vector<std::string> headers;
    if (auto a = authenticate(sent, headers, cl, d.as.issuer); !a) return fail(a.error().message);
    if (key) {
      auto proof = m_dpop.proof("POST", d.as.token_endpoint);
      if (!proof) return fail(proof.error().message);
      headers.push_back("DPoP: " + *proof);
    }
    r = m_http.post_form(d.as.token_endpoint, sent, headers);
    if (!r) return fail("token request failed: " + r.error().message);
    if (key) m_dpop.remember_nonce(d.as.token_endpoint, r->dpop_nonce);
    std::string code;
    if (r->status == 200) break;
    auto why = error_text(r->status, r->body, &code);
    if (key && attempt == 0 && code == "use_dpop_nonce" && !r->dpop_nonce.empty()) {
      CLARIBI_LOG(info, "the authorization server wants a DPoP nonce; asking again with it");
      continue;
    }
    if (error_code != nullptr) *error_code = code;
    return fail("the token endpoint refused (" + why + ")");
  }
  auto answer = read_token_answer(r->status, r->body);
  if (!answer) return fail(answer.error().message);
  TokenSet t;
  t.access_token = std::move(answer->access_token);
  log::add_secret(t.access_token);
  t.token_type = std::move(answer->token_type);
  t.refresh_token = std::move(answer->refresh_token);
  if (!t.refresh_token.empty()) log::add_secret(t.refresh_token);
  t.scope = std::move(answer->scope);
  t.obtained_at = now_seconds();
  if (answer->expires_in >= 0) t.expires_at = t.obtained_at + answer->expires_in;
  t.issuer = d.as.issuer;
  t.token_endpoint = d.as.token_endpoint;
  t.client_id = cl.id;
  t.auth_method = cl.auth_method;
  t.resource = d.resource;
  // Bound only when the server says so: it may answer Bearer anyway (RFC 9449 5).
  if (key && t.token_type == "DPoP") t.dpop_jkt = key->thumbprint();
  return t;
}

Result<TokenSet> TokenEndpoint::refresh(const TokenSet& old, const Client& cl) {
  if (old.refresh_token.empty()) return fail("no refresh token is stored");
  Discovery d;
  d.resource = old.resource;
  d.as.issuer = old.issuer;
  d.as.token_endpoint = old.token_endpoint;
  if (!old.dpop_jkt.empty()) d.as.dpop_algs = {"ES256"};  // bound tokens refresh bound
  auto t = request({{"grant_type", "refresh_token"}, {"refresh_token", old.refresh_token}}, cl, d);
  if (!t) return fail(t.error().message);
  if (t->refresh_token.empty()) t->refresh_token = old.refresh_token;
  if (t->scope.empty()) t->scope = old.scope;
  return t;
}

namespace {

/// The scopes of a grant without a user: no refresh token is wanted (nobody would sign in
/// again to replace it), so offline_access is left out.
void add_machine_scope(Form& form, std::vector<std::string> scopes) {
  scopes.erase(std::remove(scopes.begin(), scopes.end(), "offline_access"), scopes.end());
  if (!scopes.empty()) form.emplace_back("scope", join_words(scopes));
}

}  // namespace

Result<TokenSet> TokenEndpoint::client_credentials(const Client& cl, const Discovery& d,
                                                   const std::vector<std::string>& scopes) {
  Form form{{"grant_type", "client_credentials"}};
  add_machine_scope(form, scopes);
  return request(std::move(form), cl, d);
}

Result<TokenSet> TokenEndpoint::jwt_bearer(const Client& cl, const Discovery& d,
                                           const std::vector<std::string>& scopes,
                                           const std::string& assertion) {
  Form form{{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
            {"assertion", assertion}};
  add_machine_scope(form, scopes);
  return request(std::move(form), cl, d);
}

Result<TokenSet> TokenEndpoint::enterprise(const Client& cl, const Discovery& d,
                                           const std::vector<std::string>& scopes,
                                           const std::string& id_token,
                                           const std::string& idp_token_endpoint,
                                           const std::string& idp_client_id) {
  Form exchange{{"grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"},
                {"requested_token_type", "urn:ietf:params:oauth:token-type:id-jag"},
                {"audience", d.as.issuer},
                {"resource", d.resource},
                {"subject_token", id_token},
                {"subject_token_type", "urn:ietf:params:oauth:token-type:id_token"}};
  if (!idp_client_id.empty()) exchange.emplace_back("client_id", idp_client_id);
  if (!scopes.empty()) exchange.emplace_back("scope", join_words(scopes));
  auto r = m_http.post_form(idp_token_endpoint, exchange);
  if (!r) return fail("token exchange at the identity provider failed: " + r.error().message);
  if (r->status != 200) {
    return fail("the identity provider refused the token exchange (" +
                error_text(r->status, r->body) + ")");
  }
  auto grant = read_token_answer(r->status, r->body);
  if (!grant) {
    return fail(grant.error().message + " (the identity provider's token exchange answer)");
  }
  log::add_secret(grant->access_token);
  Form form{{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
            {"assertion", grant->access_token}};
  if (!scopes.empty()) form.emplace_back("scope", join_words(scopes));
  Discovery no_resource = d;  // the resource is inside the assertion
  no_resource.resource.clear();
  return request(std::move(form), cl, no_resource);
}

}  // namespace claribi::oauth
