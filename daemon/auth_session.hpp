#pragma once

// The single owner of the Authorization the remote gets: the stored API key or OAuth tokens
// looked up once (messages wait in one queue meanwhile), the login or refresh when the
// remote refuses, the refresh ahead of expiry, and credentials a tool minted. Blocking work
// (keyring, browser, token endpoint) runs on helper threads; every result comes back on the
// io thread, and not at all once the session is gone. Io thread only.

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/credentials.hpp"
#include "daemon/post_guard.hpp"
#include "oauth/oauth.hpp"
#include "transport/remote.hpp"

namespace claribi::daemon {

struct AuthOptions {
  /// Where the Authorization given at start came from (none: there is none).
  CredentialSource source = CredentialSource::none;
  /// The server's API key from the keychain (on a helper thread; may block). Unset: nothing
  /// to look up, and nothing waits.
  std::function<Result<std::optional<std::string>>()> load_api_key;
  /// The OAuth client, when a refusal may lead to a login. Its stored tokens are loaded
  /// with the API key.
  std::shared_ptr<oauth::Authorizer> oauth;
  /// Stores an API key a tool minted (on a helper thread; may block).
  std::function<Result<void>(const std::string&)> store_api_key;
};

/// What the auth session tells the remote.
struct AuthPort {
  std::function<void(const std::string&)> set_authorization;
  /// Ends a refusal round: the Authorization to retry with, or why there is none.
  std::function<void(Result<std::string>)> finished;
  /// Called when the lookup starts, so the connection set-up overlaps it.
  std::function<void()> warm_up;
};

class AuthSession {
 public:
  AuthSession(asio::io_context& io, AuthOptions options, AuthPort port);
  ~AuthSession();
  AuthSession(const AuthSession&) = delete;
  AuthSession& operator=(const AuthSession&) = delete;

  /// Runs `f` once the stored credentials were looked up: now when they were (or there is
  /// nothing to look up), else after the lookup this starts. `first`: before what already
  /// waits (the era probe goes before the messages it decides the route of).
  void when_ready(std::function<void()> f, bool first = false);
  /// Whether a message sent now would wait for the lookup.
  bool must_wait() const { return m_state != State::ready && m_options.load_api_key; }
  /// Whether the lookup has not started yet.
  bool lookup_unstarted() const { return m_state == State::unloaded; }

  /// A probe (only a client's server/discover so far): tokens are read but never refreshed,
  /// and nothing logs in on its behalf.
  void set_probe(bool probe) { m_probe = probe; }
  bool probe() const { return m_probe; }
  CredentialSource source() const { return m_options.source; }

  /// After a login, `f` may take over what follows (true) instead of ending the round.
  void set_after_login(std::function<bool(const std::string& authorization)> f) {
    m_after_login = std::move(f);
  }
  /// The remote refused a request: the minted key, a login, or an error ends the round.
  void on_refused(const transport::AuthChallenge& c);

  /// A tool minted credentials: unless a --header gave one, the session uses them.
  void adopt_minted(const Minted& minted);
  /// Stores a minted key in the keychain; `done` runs on the io thread (not after stop()).
  void store_minted_key(const std::string& key, std::function<void(Result<void>)> done);

  /// Nothing more starts, nothing pending comes back.
  void stop();

 private:
  enum class State { unloaded, loading, ready };
  struct Loaded {
    Result<std::optional<std::string>> key = std::optional<std::string>();
    std::optional<oauth::TokenSet> tokens;
  };

  void load();
  void on_loaded(Loaded&& loaded);
  void use_tokens(const oauth::TokenSet& tokens);
  /// Refreshes the access token a little before it expires, so calls never meet a 401.
  void schedule_refresh(const oauth::TokenSet& tokens);
  template <class T, class F>
  void run_off_thread(std::function<T()> work, F&& done);

  AuthOptions m_options;
  AuthPort m_port;
  State m_state = State::unloaded;
  std::vector<std::function<void()>> m_waiting;  ///< until the lookup ends
  std::size_t m_waiting_first = 0;               ///< how many of them go first
  std::string m_access_token;                    ///< the OAuth access token in use
  std::string m_minted_key;  ///< an API key a tool minted this session (a secret)
  bool m_probe = false;
  bool m_auth_round = false;  ///< a login or refresh runs for a refused request
  bool m_refreshing = false;  ///< a proactive refresh runs
  bool m_stopped = false;
  std::function<bool(const std::string&)> m_after_login;
  asio::steady_timer m_refresh_timer;
  std::shared_ptr<PostGuard> m_poster;  ///< helper threads post results through it
};

}  // namespace claribi::daemon
