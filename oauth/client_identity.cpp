#include "oauth/client_identity.hpp"

#include "oauth/scopes.hpp"
#include "util/json.hpp"
#include "util/log.hpp"

namespace claribi::oauth {
namespace {

using keychain::SecretKind;

std::string pick_auth_method(const AsMetadata& as, bool have_secret) {
  if (!have_secret) return "none";
  if (!as.has_auth_methods) return "client_secret_basic";  // RFC 8414's default
  if (contains(as.auth_methods, "client_secret_basic")) return "client_secret_basic";
  if (contains(as.auth_methods, "client_secret_post")) return "client_secret_post";
  return "client_secret_basic";
}

/// The registration request (RFC 7591 2) of a native public-or-confidential client.
std::string registration_request(const std::string& redirect_uri, bool device,
                                 const std::string& method) {
  json::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  auto strings = [&a](std::initializer_list<const char*> items) {
    json::Value v(rapidjson::kArrayType);
    for (const auto* s : items) v.PushBack(json::Value(rapidjson::StringRef(s)), a);
    return v;
  };
  doc.AddMember("client_name", "claribi-bridge", a);
  if (device) {
    doc.AddMember("grant_types",
                  strings({"urn:ietf:params:oauth:grant-type:device_code", "refresh_token"}), a);
  } else {
    json::Value uris(rapidjson::kArrayType);
    uris.PushBack(json::Value(redirect_uri.c_str(), a), a);
    doc.AddMember("redirect_uris", uris, a);
    doc.AddMember("grant_types", strings({"authorization_code", "refresh_token"}), a);
    doc.AddMember("response_types", strings({"code"}), a);
  }
  doc.AddMember("application_type", "native", a);
  doc.AddMember("token_endpoint_auth_method", json::Value(method.c_str(), a), a);
  doc.AddMember("software_id", "claribi-bridge", a);
  doc.AddMember("software_version", CLARIBI_VERSION, a);
  return json::to_string(doc);
}

}  // namespace

ClientIdentity::ClientIdentity(HttpClient& http, OAuthStore& store, std::string client_id,
                               std::string client_metadata_url)
    : m_http(http),
      m_store(store),
      m_client_id(std::move(client_id)),
      m_client_metadata_url(std::move(client_metadata_url)) {}

Result<Client> ClientIdentity::pre_registered(const AsMetadata& as) {
  Client cl;
  cl.id = m_client_id;
  auto key = m_store.secret(SecretKind::client_key);
  if (!key) return fail(key.error().message);
  if (*key) {
    cl.private_key = **key;
    cl.auth_method = "private_key_jwt";
    return cl;
  }
  auto secret = m_store.secret(SecretKind::client_secret);
  if (!secret) return fail(secret.error().message);
  if (*secret) {
    cl.secret = **secret;
    log::add_secret(cl.secret);
  }
  cl.auth_method = pick_auth_method(as, !cl.secret.empty());
  return cl;
}

Result<Client> ClientIdentity::register_client(const Discovery& d, const std::string& redirect_uri,
                                               bool device) {
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
  auto r = m_http.post(d.as.registration_endpoint, "application/json",
                       registration_request(redirect_uri, device, method));
  if (!r) return fail("client registration failed: " + r.error().message);
  if (r->status != 200 && r->status != 201) {
    return fail("client registration at " + d.as.registration_endpoint +
                " was refused: " + error_text(r->status, r->body));
  }
  auto answer = read_registration(r->status, r->body);
  if (!answer) return fail(answer.error().message);
  Client cl;
  cl.id = answer->client_id;
  cl.secret = answer->client_secret;
  if (!cl.secret.empty()) log::add_secret(cl.secret);
  cl.auth_method = answer->auth_method;
  if (cl.auth_method.empty()) {
    cl.auth_method =
        cl.secret.empty() ? "none" : (method == "none" ? "client_secret_basic" : method);
  }
  cl.registered = true;
  m_store.store_registration(d.as.issuer,
                             Registration{cl.id, cl.secret, cl.auth_method, redirect_uri});
  CLARIBI_LOG(info, "registered as client " << cl.id << " with " << d.as.issuer);
  return cl;
}

Client ClientIdentity::from_registration(const Registration& reg) {
  Client cl;
  cl.id = reg.client_id;
  cl.secret = reg.client_secret;
  cl.auth_method = reg.auth_method.empty() ? "none" : reg.auth_method;
  cl.registered = true;
  return cl;
}

Result<Client> ClientIdentity::for_code_grant(const Discovery& d, const std::string& redirect_uri,
                                              const std::optional<Registration>& cached) {
  if (!m_client_id.empty()) return pre_registered(d.as);
  if (!m_client_metadata_url.empty() && d.as.cimd_supported) {
    Client cl;
    cl.id = m_client_metadata_url;
    return cl;
  }
  if (cached && cached->redirect_uri == redirect_uri) return from_registration(*cached);
  return register_client(d, redirect_uri);
}

Result<Client> ClientIdentity::for_device_grant(const Discovery& d) {
  if (!m_client_id.empty()) return pre_registered(d.as);
  // A registration of its own: the device grant's client has no redirect URI.
  if (auto reg = m_store.registration(d.as.issuer + "#device")) return from_registration(*reg);
  Discovery keyed = d;
  keyed.as.issuer = d.as.issuer + "#device";
  return register_client(keyed, "", true);
}

Result<Client> ClientIdentity::for_refresh(const TokenSet& old) {
  Client cl;
  cl.id = old.client_id;
  cl.auth_method = old.auth_method.empty() ? "none" : old.auth_method;
  if (cl.auth_method == "private_key_jwt" || (!m_client_id.empty() && m_client_id == cl.id)) {
    AsMetadata as;
    as.issuer = old.issuer;
    auto pre = pre_registered(as);
    if (!pre) return fail(pre.error().message);
    cl.secret = pre->secret;
    cl.private_key = pre->private_key;
  } else if (cl.auth_method != "none") {
    auto reg = m_store.registration(old.issuer);
    if (!reg || reg->client_id != cl.id) {
      return fail("the registration of client " + cl.id + " is no longer stored");
    }
    cl.secret = reg->client_secret;
  }
  return cl;
}

}  // namespace claribi::oauth
