#include "oauth/answers.hpp"

#include "util/text.hpp"

namespace claribi::oauth {

Result<json::Document> json_object(long status, std::string_view body, const std::string& what) {
  json::Document doc;
  auto parsed = json::parse(doc, body);
  if (!parsed || !doc.IsObject()) {
    return fail(what + " is not a JSON object (HTTP " + std::to_string(status) +
                (parsed ? "" : ": " + parsed.error().message) + ")");
  }
  return doc;
}

std::string error_text(long status, std::string_view body, std::string* code) {
  json::Document doc;
  if (json::parse(doc, body) && doc.IsObject() && json::member(doc, "error") != nullptr) {
    auto e = string_member(doc, "error");
    if (code != nullptr) *code = e;
    auto d = string_member(doc, "error_description");
    return "HTTP " + std::to_string(status) + ", " + e + (d.empty() ? "" : ": " + d);
  }
  auto snippet = std::string(body.substr(0, 200));
  for (auto& c : snippet) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return "HTTP " + std::to_string(status) + (snippet.empty() ? "" : ": " + snippet);
}

std::vector<std::string> string_array(const json::Value* v) {
  std::vector<std::string> out;
  if (v == nullptr || !v->IsArray()) return out;
  for (const auto& e : v->GetArray()) {
    if (e.IsString()) out.emplace_back(e.GetString(), e.GetStringLength());
  }
  return out;
}

std::string string_member(const json::Value& doc, const char* name) {
  return std::string(json::string_or_empty(json::member(doc, name)));
}

namespace {

bool true_member(const json::Value& doc, const char* name) {
  const auto* v = json::member(doc, name);
  return v != nullptr && v->IsBool() && v->GetBool();
}

}  // namespace

Result<AsMetadata> read_as_metadata(const json::Value& doc) {
  if (!doc.IsObject()) return fail("the authorization server metadata is not a JSON object");
  AsMetadata m;
  m.issuer = string_member(doc, "issuer");
  m.authorization_endpoint = string_member(doc, "authorization_endpoint");
  m.token_endpoint = string_member(doc, "token_endpoint");
  m.registration_endpoint = string_member(doc, "registration_endpoint");
  m.device_authorization_endpoint = string_member(doc, "device_authorization_endpoint");
  m.scopes_supported = string_array(json::member(doc, "scopes_supported"));
  const auto* methods = json::member(doc, "token_endpoint_auth_methods_supported");
  m.has_auth_methods = methods != nullptr;
  m.auth_methods = string_array(methods);
  const auto* challenges = json::member(doc, "code_challenge_methods_supported");
  m.has_challenge_methods = challenges != nullptr;
  m.challenge_methods = string_array(challenges);
  m.iss_supported = true_member(doc, "authorization_response_iss_parameter_supported");
  m.cimd_supported = true_member(doc, "client_id_metadata_document_supported");
  m.dpop_algs = string_array(json::member(doc, "dpop_signing_alg_values_supported"));
  if (m.token_endpoint.empty())
    return fail("the authorization server metadata has no token_endpoint");
  return m;
}

Result<ResourceMetadata> read_resource_metadata(const json::Value& doc) {
  if (!doc.IsObject()) return fail("the protected resource metadata is not a JSON object");
  ResourceMetadata m;
  m.resource = string_member(doc, "resource");
  if (m.resource.empty()) return fail("the protected resource metadata has no 'resource'");
  m.scopes_supported = string_array(json::member(doc, "scopes_supported"));
  m.authorization_servers = string_array(json::member(doc, "authorization_servers"));
  if (m.authorization_servers.empty()) {
    return fail("the protected resource metadata names no authorization server");
  }
  return m;
}

Result<RegisteredClient> read_registration(long status, std::string_view body) {
  auto doc = json_object(status, body, "the client registration answer");
  if (!doc) return fail(doc.error().message);
  RegisteredClient c{string_member(*doc, "client_id"), string_member(*doc, "client_secret"),
                     string_member(*doc, "token_endpoint_auth_method")};
  if (c.client_id.empty()) return fail("the client registration answer has no client_id");
  return c;
}

Result<TokenAnswer> read_token_answer(long status, std::string_view body) {
  auto doc = json_object(status, body, "the token answer");
  if (!doc) return fail(doc.error().message);
  TokenAnswer t;
  t.access_token = string_member(*doc, "access_token");
  if (t.access_token.empty()) return fail("the token answer has no access_token");
  t.token_type = string_member(*doc, "token_type");
  if (t.token_type.empty() || text::lower(t.token_type) == "bearer") t.token_type = "Bearer";
  if (text::lower(t.token_type) == "dpop") t.token_type = "DPoP";
  t.refresh_token = string_member(*doc, "refresh_token");
  t.scope = string_member(*doc, "scope");
  if (const auto* e = json::member(*doc, "expires_in"); e != nullptr && e->IsNumber()) {
    // At most ten years: a longer lifetime is a broken answer, and sums must not overflow.
    t.expires_in = json::clamped_int(e, 0, 10LL * 365 * 24 * 3600, 0);
  }
  return t;
}

Result<DeviceAuthorization> read_device_authorization(long status, std::string_view body) {
  auto doc = json_object(status, body, "the device authorization answer");
  if (!doc) return fail(doc.error().message);
  DeviceAuthorization a;
  a.device_code = string_member(*doc, "device_code");
  a.user_code = string_member(*doc, "user_code");
  a.verification_uri = string_member(*doc, "verification_uri");
  a.verification_uri_complete = string_member(*doc, "verification_uri_complete");
  if (a.device_code.empty() || a.user_code.empty() || a.verification_uri.empty()) {
    return fail("the device authorization answer lacks device_code, user_code or verification_uri");
  }
  if (const auto* i = json::member(*doc, "interval"); i != nullptr && i->IsNumber()) {
    a.interval_s = static_cast<long>(json::clamped_int(i, 1, 600, 5));
  }
  if (const auto* e = json::member(*doc, "expires_in"); e != nullptr && e->IsNumber()) {
    a.expires_in_s = static_cast<long>(json::clamped_int(e, 0, 24 * 3600, 0));
  }
  return a;
}

}  // namespace claribi::oauth
