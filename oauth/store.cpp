#include "oauth/store.hpp"

#include "oauth/answers.hpp"
#include "util/json.hpp"
#include "util/log.hpp"

#include <chrono>

namespace claribi::oauth {

using keychain::Key;
using keychain::SecretKind;

OAuthStore::OAuthStore(std::shared_ptr<keychain::Keychain> store, std::string account_server,
                       long timeout_ms)
    : m_store(std::move(store)),
      m_account_server(std::move(account_server)),
      m_timeout_ms(timeout_ms) {}

Result<std::optional<std::string>> OAuthStore::secret(SecretKind kind) {
  if (!m_store) return std::optional<std::string>();
  auto account = keychain::account_name(m_account_server, kind);
  return keychain::call_with_timeout<std::optional<std::string>>(
      m_store, [account](keychain::Keychain& k) { return k.get(Key{account}); },
      std::chrono::milliseconds(m_timeout_ms));
}

Result<void> OAuthStore::set_secret(SecretKind kind, const std::string& value) {
  if (!m_store) return {};
  auto account = keychain::account_name(m_account_server, kind);
  return keychain::call_with_timeout<void>(
      m_store, [account, value](keychain::Keychain& k) { return k.set(Key{account}, value); },
      std::chrono::milliseconds(m_timeout_ms));
}

std::optional<TokenSet> OAuthStore::load_tokens() {
  auto stored = secret(SecretKind::oauth_tokens);
  if (!stored) {
    CLARIBI_LOG(warn, "cannot read stored OAuth tokens: " << stored.error().message);
    return m_memory;
  }
  if (!*stored) return m_memory;
  auto t = TokenSet::from_json(**stored);
  if (!t) {
    CLARIBI_LOG(warn, t.error().message << "; ignoring it");
    return m_memory;
  }
  remember(*t);
  return std::move(*t);
}

void OAuthStore::remember(const TokenSet& t) {
  log::add_secret(t.access_token);
  if (!t.refresh_token.empty()) log::add_secret(t.refresh_token);
  m_memory = t;
}

void OAuthStore::save_tokens(const TokenSet& t) {
  remember(t);
  if (auto r = set_secret(SecretKind::oauth_tokens, t.to_json()); !r) {
    CLARIBI_LOG(warn, "could not store the OAuth tokens ("
                          << r.error().message << "); they last until this claribi-bridge exits");
  }
}

void OAuthStore::drop_tokens() {
  m_memory.reset();
  if (!m_store) return;
  auto account = keychain::account_name(m_account_server, SecretKind::oauth_tokens);
  auto r = keychain::call_with_timeout<void>(
      m_store, [account](keychain::Keychain& k) { return k.remove(Key{account}); },
      std::chrono::milliseconds(m_timeout_ms));
  if (!r) CLARIBI_LOG(warn, "could not remove the stored OAuth tokens: " << r.error().message);
}

Result<std::shared_ptr<const DpopKey>> OAuthStore::dpop_key(bool create, bool reload) {
  if (m_memory_key && !reload) return m_memory_key;
  auto stored = secret(SecretKind::dpop_key);
  if (!stored) return fail("cannot read the DPoP key: " + stored.error().message);
  if (*stored) {
    log::add_secret(**stored);
    auto key = DpopKey::from_pem(**stored);
    if (!key) return fail(key.error().message);
    m_memory_key = *key;
    return m_memory_key;
  }
  if (!create) return std::shared_ptr<const DpopKey>();
  auto key = DpopKey::generate();
  if (!key) return fail(key.error().message);
  auto pem = (*key)->private_pem();
  if (!pem) return fail(pem.error().message);
  log::add_secret(*pem);
  if (auto w = set_secret(SecretKind::dpop_key, *pem); !w) {
    CLARIBI_LOG(warn, "could not store the DPoP key (" << w.error().message
                                                       << "); tokens bound to it last until exit");
  }
  m_memory_key = *key;
  return m_memory_key;
}

std::optional<Registration> OAuthStore::registration(const std::string& issuer) {
  auto v = secret(SecretKind::oauth_client);
  if (!v || !*v) return std::nullopt;
  auto doc = json::parse_or_null(**v);
  const auto* regs = json::member(doc, "registrations");
  const auto* r = regs != nullptr ? json::member(*regs, issuer.c_str()) : nullptr;
  if (r == nullptr || !r->IsObject()) return std::nullopt;
  Registration out{string_member(*r, "client_id"), string_member(*r, "client_secret"),
                   string_member(*r, "token_endpoint_auth_method"),
                   string_member(*r, "redirect_uri")};
  if (out.client_id.empty()) return std::nullopt;
  if (!out.client_secret.empty()) log::add_secret(out.client_secret);
  return out;
}

void OAuthStore::store_registration(const std::string& issuer,
                                    const std::optional<Registration>& reg) {
  if (!m_store) return;
  auto v = secret(SecretKind::oauth_client);
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
    r.AddMember("token_endpoint_auth_method", json::Value(reg->auth_method.c_str(), alloc), alloc);
    r.AddMember("redirect_uri", json::Value(reg->redirect_uri.c_str(), alloc), alloc);
    r.AddMember("registered_at", json::Value(static_cast<std::int64_t>(now_seconds())), alloc);
    regs.AddMember(json::Value(issuer.c_str(), alloc), r, alloc);
  }
  if (auto w = set_secret(SecretKind::oauth_client, json::to_string(doc)); !w) {
    CLARIBI_LOG(warn, "could not store the client registration: " << w.error().message);
  }
}

}  // namespace claribi::oauth
