#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "util/result.hpp"

namespace claribi::keychain {

/// The service name of every entry, in every backend.
inline constexpr const char* k_service = "claribi-bridge";

/// What a secret is, the last part of its account name.
/// api-key: the server's API key. oauth-tokens: the token set of the OAuth login.
/// oauth-client: client registrations the bridge made (Dynamic Client Registration), by
/// authorization server. client-secret / client-key: what the user gave for a
/// pre-registered client (a secret, or a PEM private key for private_key_jwt).
/// idp-token: an identity provider's ID token for enterprise-managed authorization.
/// dpop-key: the PEM private key the OAuth tokens are bound to (DPoP, RFC 9449).
enum class SecretKind {
  api_key,
  oauth_tokens,
  oauth_client,
  client_secret,
  client_key,
  idp_token,
  dpop_key
};
std::string_view kind_name(SecretKind kind);  ///< "api-key", "oauth-tokens", ...
std::optional<SecretKind> parse_kind(std::string_view name);

/// The server part of account names: scheme://host[:port]/path[?query] with scheme and host
/// lower-cased, the scheme's default port dropped and one trailing '/' of the path removed,
/// so https://claribi.com/mcp/v1/ and https://CLARIBI.com:443/mcp/v1 name the same server.
/// The query is kept: it can select a tenant.
Result<std::string> canonical_server(std::string_view url);

/// The server part of account names for secrets kept apart by --resource (two tenants of
/// one server URL): "<canonical server>#resource=<canonical resource>". Without a resource,
/// the canonical server itself, as before the option existed. A canonical server has no '#',
/// so no name of one server is a name of another, and "<canonical server>#" prefixes both.
std::string login_server(const std::string& server, const std::string& resource);

/// "<canonical server>#<kind>", e.g. "https://claribi.com/mcp/v1#api-key".
std::string account_name(const std::string& server, SecretKind kind);

/// An account name split back into server and kind; nullopt for names of other tools.
struct Account {
  std::string server;
  SecretKind kind;
};
std::optional<Account> parse_account(std::string_view account);

/// Where one secret lives: service k_service, this account.
struct Key {
  std::string account;
};

/// One interface over the OS secret stores. Calls may block (a keyring prompt): never call
/// them on the io thread; `call_with_timeout` bounds them.
class Keychain {
 public:
  virtual ~Keychain() = default;
  virtual Result<std::optional<std::string>> get(const Key& key) = 0;
  virtual Result<void> set(const Key& key, const std::string& secret) = 0;
  virtual Result<void> remove(const Key& key) = 0;
  /// Accounts stored whose name starts with `prefix` (a server's secrets: "<server>#").
  virtual Result<std::vector<std::string>> list(const std::string& prefix) = 0;
  /// A short name for status output ("libsecret", "file", ...).
  virtual std::string backend_name() const = 0;
};

/// A process-local store, for unit tests of the code that uses a keychain.
std::unique_ptr<Keychain> make_memory_keychain();

/// Stores values longer than `max_part` bytes across several entries of `inner` (Windows
/// Credential Manager keeps at most 2560 bytes per credential). Every entry carries the
/// generation of the write it belongs to and the first one a length and checksum, so a
/// value half-written by another process is reported as such, never returned.
std::unique_ptr<Keychain> make_chunked_keychain(std::unique_ptr<Keychain> inner,
                                                std::size_t max_part);

/// The platform's store: libsecret (Secret Service) on Linux, the login keychain on macOS,
/// Credential Manager on Windows. Errors say what is missing and how to fix it.
Result<std::unique_ptr<Keychain>> make_platform_keychain();

/// A JSON file with mode 0600, only ever used when the user asks for it
/// (`--credential-store file`). `path` empty: default_file_store_path().
Result<std::unique_ptr<Keychain>> make_file_keychain(std::string path);

/// $XDG_STATE_HOME/claribi-bridge/credentials.json (~/.local/state/... when unset; on
/// Windows %LOCALAPPDATA%\claribi-bridge\credentials.json).
std::string default_file_store_path();

/// Runs `fn` on a helper thread and waits at most `timeout`. A store that hangs (a prompt
/// nobody answers, a wedged daemon) becomes an error instead of a hung bridge; the helper
/// thread is left to finish on its own.
template <class T>
Result<T> call_with_timeout(std::shared_ptr<Keychain> keychain,
                            std::function<Result<T>(Keychain&)> fn,
                            std::chrono::milliseconds timeout) {
  struct State {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<Result<T>> result;
  };
  auto state = std::make_shared<State>();
  std::thread([keychain, fn = std::move(fn), state] {
    auto r = fn(*keychain);
    std::lock_guard<std::mutex> lock(state->mutex);
    state->result.emplace(std::move(r));
    state->done.notify_all();
  }).detach();
  std::unique_lock<std::mutex> lock(state->mutex);
  if (!state->done.wait_for(lock, timeout, [&] { return state->result.has_value(); })) {
    return fail("the " + keychain->backend_name() + " credential store did not answer within " +
                std::to_string(timeout.count() / 1000) +
                " s; a password prompt may be waiting on the desktop, or the keyring daemon "
                "is stuck. Unlock the keyring and try again.");
  }
  return std::move(*state->result);
}

}  // namespace claribi::keychain
