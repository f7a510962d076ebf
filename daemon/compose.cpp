#include "daemon/compose.hpp"

#include "util/log.hpp"
#include "util/text.hpp"

#include <chrono>

namespace claribi::daemon {
namespace {

constexpr long k_keychain_timeout_ms = 20000;

}  // namespace

Result<void> compose_credentials(Invocation& inv) {
  auto& bridge = inv.bridge;
  auto& headers = bridge.remote.headers;
  for (const auto& h : headers) {
    if (is_secret_header(h.name)) log::add_secret(h.value);
    if (text::lower(h.name) == "authorization") bridge.credential_source = CredentialSource::header;
  }
  auto env_key = api_key_from_env(inv.env_api_key);
  if (env_key && *env_key) log::add_secret(**env_key);
  auto account = keychain::account_name(inv.server, keychain::SecretKind::api_key);
  auto timeout = std::chrono::milliseconds(k_keychain_timeout_ms);
  if (bridge.credential_source == CredentialSource::header) {
    // The user chose the credential; an unusable CLARIBI_API_KEY beside it does not matter.
  } else if (!env_key) {
    if (inv.command != Invocation::Command::run) return fail(env_key.error().message);
    bridge.config_error = env_key.error().message;  // told to the client on every request
    CLARIBI_LOG(error, bridge.config_error);
  } else if (*env_key) {
    headers.push_back(Header{"Authorization", "Bearer " + **env_key});
    bridge.credential_source = CredentialSource::environment;
  } else {
    bridge.load_api_key = [store = inv.store, account, timeout] {
      return keychain::call_with_timeout<std::optional<std::string>>(
          store, [account](keychain::Keychain& k) { return k.get(keychain::Key{account}); },
          timeout);
    };
  }
  bridge.store_api_key = [store = inv.store, account, timeout](const std::string& minted) {
    return keychain::call_with_timeout<void>(
        store,
        [account, minted](keychain::Keychain& k) { return k.set(keychain::Key{account}, minted); },
        timeout);
  };
  // OAuth only when the user gave no credential of their own.
  const bool user_credential = bridge.credential_source == CredentialSource::header ||
                               bridge.credential_source == CredentialSource::environment;
  if (!inv.no_oauth && !user_credential && inv.command != Invocation::Command::login) {
    bridge.oauth = std::make_shared<oauth::Authorizer>(inv.oauth);
  }
  return {};
}

}  // namespace claribi::daemon
