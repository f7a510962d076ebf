#pragma once

// Where the OAuth client keeps what outlives a login: the token set, the clients registered
// with each authorization server, and the secrets of a pre-registered client, all in the
// keychain (or, without one, the token set in memory for this process only).

#include <memory>
#include <optional>
#include <string>

#include "keychain/keychain.hpp"
#include "oauth/dpop.hpp"
#include "oauth/oauth.hpp"
#include "util/result.hpp"

namespace claribi::oauth {

/// A client the bridge registered (RFC 7591) with one authorization server.
struct Registration {
  std::string client_id;
  std::string client_secret;
  std::string auth_method;
  std::string redirect_uri;
};

class OAuthStore {
 public:
  /// `store` null: tokens live only in this process; nothing else is kept.
  OAuthStore(std::shared_ptr<keychain::Keychain> store, std::string account_server,
             long timeout_ms);

  /// A secret of `kind` for the server (nothing without a store).
  Result<std::optional<std::string>> secret(keychain::SecretKind kind);

  /// The stored token set (or this process's, when the keychain has none or cannot be read).
  std::optional<TokenSet> load_tokens();
  /// Stores `t` (a warning when the keychain refuses: they then last until exit).
  void save_tokens(const TokenSet& t);
  /// Forgets the token set, stored and in memory.
  void drop_tokens();

  /// The key DPoP-bound tokens are bound to: the stored one, or null when there is none
  /// (with `create`, a new one, stored beside the tokens; without a keychain it lasts until
  /// exit, like the tokens).
  /// `reload`: read the keychain again, whatever this process holds.
  Result<std::shared_ptr<const DpopKey>> dpop_key(bool create, bool reload = false);

  /// The registration stored for `issuer`, if any.
  std::optional<Registration> registration(const std::string& issuer);
  /// Stores (or, with nullopt, forgets) the registration for `issuer`.
  void store_registration(const std::string& issuer, const std::optional<Registration>& reg);

 private:
  Result<void> set_secret(keychain::SecretKind kind, const std::string& value);
  void remember(const TokenSet& t);

  std::shared_ptr<keychain::Keychain> m_store;
  std::string m_account_server;
  long m_timeout_ms;
  std::optional<TokenSet> m_memory;
  std::shared_ptr<const DpopKey> m_memory_key;
};

}  // namespace claribi::oauth
