#include "daemon/auth_session.hpp"

#include "util/log.hpp"

#include <algorithm>
#include <thread>

namespace claribi::daemon {

template <class T, class F>
void AuthSession::run_off_thread(std::function<T()> work, F&& done) {
  std::thread([poster = m_poster, work = std::move(work), done = std::forward<F>(done)]() mutable {
    auto result = std::make_shared<T>(work());
    poster->post([done = std::move(done), result]() mutable { done(std::move(*result)); });
  }).detach();
}

AuthSession::AuthSession(asio::io_context& io, AuthOptions options, AuthPort port)
    : m_options(std::move(options)),
      m_port(std::move(port)),
      m_refresh_timer(io),
      m_poster(PostGuard::make(io)) {}

AuthSession::~AuthSession() {
  m_poster->close();
}

void AuthSession::stop() {
  m_stopped = true;
  m_refresh_timer.cancel();
}

void AuthSession::when_ready(std::function<void()> f, bool first) {
  if (!must_wait()) {
    f();
    return;
  }
  if (first) {
    m_waiting.insert(m_waiting.begin() + static_cast<std::ptrdiff_t>(m_waiting_first++),
                     std::move(f));
  } else {
    m_waiting.push_back(std::move(f));
  }
  load();
}

void AuthSession::load() {
  if (m_state != State::unloaded) return;
  m_state = State::loading;
  run_off_thread<Loaded>(
      [load = m_options.load_api_key, auth = m_options.oauth, may_refresh = !m_probe] {
        Loaded l;
        l.key = load();
        if (auth && (!l.key || !*l.key)) {
          auto t = auth->load();
          if (t && *t) {
            l.tokens = std::move(**t);
            // Expired (or nearly): refresh now rather than meet a 401. Not in a probe: a
            // throwaway process killed mid-refresh could lose the rotated refresh token.
            if (may_refresh && l.tokens->expires_at != 0 && !l.tokens->refresh_token.empty() &&
                l.tokens->expires_at <= oauth::now_seconds() + 5) {
              if (auto r = auth->refresh(l.tokens->access_token)) l.tokens = std::move(*r);
            }
          }
        }
        return l;
      },
      [this](Loaded&& loaded) { on_loaded(std::move(loaded)); });
  if (m_port.warm_up) m_port.warm_up();  // libcurl and TLS set-up overlap the lookup
}

void AuthSession::on_loaded(Loaded&& loaded) {
  m_state = State::ready;
  if (m_stopped) {
    m_waiting.clear();
    return;
  }
  auto& key = loaded.key;
  if (key && *key) {
    log::add_secret(**key);
    m_port.set_authorization("Bearer " + **key);
    m_options.source = CredentialSource::keychain;
  } else if (loaded.tokens) {
    use_tokens(*loaded.tokens);
    m_port.set_authorization(loaded.tokens->token_type + " " + loaded.tokens->access_token);
  }
  auto waiting = std::move(m_waiting);
  m_waiting.clear();
  m_waiting_first = 0;
  for (auto& f : waiting) f();
  // Logged after the messages went out: the first log line also builds the redaction
  // patterns (~1.5 ms), which is better spent while the remote answers.
  if (!key) {
    CLARIBI_LOG(warn, "no API key from the keychain: " << key.error().message
                                                       << " (continuing without one)");
  } else if (*key) {
    CLARIBI_LOG(info, "using the API key stored in the keychain for this server");
  } else if (loaded.tokens) {
    CLARIBI_LOG(info, "using the OAuth tokens stored for this server");
  } else {
    CLARIBI_LOG(debug, "no API key stored in the keychain for this server");
  }
}

void AuthSession::on_refused(const transport::AuthChallenge& c) {
  const auto source = m_options.source;
  if (source == CredentialSource::minted && !m_minted_key.empty() &&
      c.rejected_authorization != "Bearer " + m_minted_key) {
    // The conversation's access token was refused (expired, or the remote takes keys only):
    // the key minted with it comes next. While one exists, no browser opens.
    CLARIBI_LOG(info, "the remote refused the minted access token; using the minted API key");
    m_port.finished("Bearer " + m_minted_key);
    return;
  }
  const bool oauth_allowed =
      m_options.oauth && (source == CredentialSource::none || source == CredentialSource::oauth);
  if (!oauth_allowed) {
    std::string why = "the remote refused the credentials (HTTP " + std::to_string(c.status) + ")";
    if (source != CredentialSource::none) why += " from " + std::string(source_name(source));
    why +=
        ". Store a valid API key with 'claribi-bridge key set URL' (check with 'claribi-bridge "
        "status'), set CLARIBI_API_KEY, or pass --header 'Authorization: Bearer ...'";
    if (source == CredentialSource::keychain) {
      why += "; or remove the stored key ('claribi-bridge key remove URL') to log in with OAuth";
    }
    if (!c.www_authenticate.empty()) {
      why += " (WWW-Authenticate: " + log::redact(c.www_authenticate) + ")";
    }
    m_port.finished(claribi::fail(why));
    return;
  }
  auto challenge = oauth::parse_challenge(c.status, c.www_authenticate);
  auto rejected = c.rejected_authorization;
  if (auto sp = rejected.find(' '); sp != std::string::npos) rejected = rejected.substr(sp + 1);
  m_auth_round = true;
  run_off_thread<Result<oauth::TokenSet>>(
      [auth = m_options.oauth, challenge, rejected] {
        return auth->authorize(challenge, rejected);
      },
      [this](Result<oauth::TokenSet>&& t) {
        m_auth_round = false;
        if (m_stopped) return;
        if (!t) {
          CLARIBI_LOG(error, "authorization failed: " << t.error().message);
          m_port.finished(claribi::fail(t.error().message));
          return;
        }
        use_tokens(*t);
        auto authorization = t->token_type + " " + t->access_token;
        if (m_after_login && m_after_login(authorization)) return;
        m_port.finished(authorization);
      });
}

void AuthSession::use_tokens(const oauth::TokenSet& tokens) {
  log::add_secret(tokens.access_token);
  if (!tokens.refresh_token.empty()) log::add_secret(tokens.refresh_token);
  m_access_token = tokens.access_token;
  m_options.source = CredentialSource::oauth;
  if (!m_probe) schedule_refresh(tokens);  // a probe's refusal is an answer, not a refresh
}

void AuthSession::schedule_refresh(const oauth::TokenSet& tokens) {
  m_refresh_timer.cancel();
  if (tokens.expires_at == 0 || tokens.refresh_token.empty()) return;
  const std::int64_t lifetime_ms = (tokens.expires_at - tokens.obtained_at) * 1000;
  const std::int64_t margin_ms = std::clamp<std::int64_t>(lifetime_ms / 5, 200, 60000);
  const std::int64_t left_ms = (tokens.expires_at - oauth::now_seconds()) * 1000;
  auto delay = std::max<std::int64_t>(0, left_ms - margin_ms);
  m_refresh_timer.expires_after(std::chrono::milliseconds(delay));
  m_refresh_timer.async_wait([this](const std::error_code& ec) {
    if (ec || m_stopped || m_auth_round || m_refreshing) return;
    m_refreshing = true;
    run_off_thread<Result<oauth::TokenSet>>(
        [auth = m_options.oauth, current = m_access_token] { return auth->refresh(current); },
        [this](Result<oauth::TokenSet>&& t) {
          m_refreshing = false;
          if (m_stopped) return;
          if (!t) {
            CLARIBI_LOG(warn, "could not refresh the access token ahead of its expiry ("
                                  << t.error().message << "); the next refusal will log in");
            return;
          }
          CLARIBI_LOG(debug, "refreshed the access token ahead of its expiry");
          use_tokens(*t);
          m_port.set_authorization(t->token_type + " " + t->access_token);
        });
  });
}

void AuthSession::adopt_minted(const Minted& minted) {
  if (!minted.api_key.empty()) {
    log::add_secret(minted.api_key);
    m_minted_key = minted.api_key;
  }
  if (!minted.access_token.empty()) log::add_secret(minted.access_token);
  if (m_options.source == CredentialSource::header) return;
  const auto& bearer = minted.access_token.empty() ? minted.api_key : minted.access_token;
  m_port.set_authorization("Bearer " + bearer);
  m_options.source = CredentialSource::minted;
  CLARIBI_LOG(info, "a tool minted credentials; this session now uses "
                        << (minted.access_token.empty() ? "the new API key" : "its access token"));
}

void AuthSession::store_minted_key(const std::string& key, std::function<void(Result<void>)> done) {
  run_off_thread<Result<void>>(
      [store = m_options.store_api_key, key]() -> Result<void> {
        if (!store) return fail("no credential store is configured");
        return store(key);
      },
      std::move(done));
}

}  // namespace claribi::daemon
