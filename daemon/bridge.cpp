#include "daemon/bridge.hpp"

#include "util/log.hpp"
#include "util/text.hpp"

#include <asio/post.hpp>

#include <cctype>
#include <chrono>
#include <mutex>
#include <thread>

namespace claribi::daemon {
namespace {

constexpr long k_eof_grace_ms = 400;
constexpr long k_delete_budget_ms = 400;
constexpr long k_hard_deadline_ms = 900;

std::string progress_token_of(const jsonrpc::Message& m) {
  const auto* params = json::member(m.doc, "params");
  const auto* meta = params ? json::member(*params, "_meta") : nullptr;
  const auto* token = meta ? json::member(*meta, "progressToken") : nullptr;
  return token ? jsonrpc::id_text(*token) : std::string();
}

std::string tool_name_of(const jsonrpc::Message& m) {
  const auto* params = json::member(m.doc, "params");
  return std::string(json::string_or_empty(params ? json::member(*params, "name") : nullptr));
}

constexpr std::string_view k_key_stored_note =
    "[API key stored in the OS keychain by claribi-bridge and used from now on; it is not "
    "shown here]";
/// Ids of the bridge's own requests to the client (compact JSON, without the closing quote).
constexpr const char* k_roots_id_prefix = "\"claribi-bridge-roots-";

/// file:///home/a%20b → /home/a b (RFC 8089 local paths; a host part other than empty or
/// localhost is not a local file).
std::string file_uri_path(std::string s) {
  if (s.rfind("localhost/", 0) == 0) s = s.substr(9);
  if (s.empty() || s.front() != '/') return {};
  return percent_decode(s);
}

constexpr std::string_view k_token_note =
    "[access token held by claribi-bridge for this session; it is not shown here]";

}  // namespace

/// Lets helper threads post to the io context only while the bridge exists.
struct Bridge::Poster {
  std::mutex mutex;
  asio::io_context* io = nullptr;
  bool open = true;

  template <class F>
  void post(F&& f) {
    std::lock_guard<std::mutex> lock(mutex);
    if (open) asio::post(*io, std::forward<F>(f));
  }
};

template <class T, class F>
void Bridge::run_off_thread(std::function<T()> work, F&& done) {
  std::thread([poster = m_poster, work = std::move(work), done = std::forward<F>(done)]() mutable {
    auto result = std::make_shared<T>(work());
    poster->post([done = std::move(done), result]() mutable { done(std::move(*result)); });
  }).detach();
}

Bridge::Bridge(asio::io_context& io, StdoutWriter& out, BridgeOptions options,
               std::function<void()> on_finished)
    : m_io(io),
      m_out(out),
      m_options(std::move(options)),
      m_on_finished(std::move(on_finished)),
      m_tools(ToolPolicy(m_options.tools), m_options.uploads),
      m_refresh_timer(io),
      m_poster(std::make_shared<Poster>()),
      m_grace(io) {
  m_poster->io = &io;
}

Bridge::~Bridge() {
  {
    std::lock_guard<std::mutex> lock(m_poster->mutex);
    m_poster->open = false;
  }
  m_remote.reset();
  m_http.reset();
}

transport::Remote& Bridge::remote() {
  if (!m_remote) {
    m_http = std::make_unique<transport::HttpWorker>(m_io);
    m_remote = std::make_unique<transport::Remote>(
        m_io, *m_http, m_options.remote,
        transport::RemoteEvents{
            [this](jsonrpc::Message&& m) { on_remote_message(std::move(m)); },
            [this](const std::string& id, transport::RequestFailure&& f) {
              on_remote_failure(id, std::move(f));
            },
            [this](const transport::AuthChallenge& c) { on_auth_required(c); }});
  }
  return *m_remote;
}

void Bridge::reply_error(const std::string& id, int code, const std::string& message) {
  m_out.write_line(jsonrpc::error_response(id, code, message));
}

void Bridge::on_line(std::string&& line) {
  if (m_shutting_down) return;
  auto parsed = jsonrpc::parse(std::move(line));
  if (!parsed) {
    auto& e = parsed.error();
    CLARIBI_LOG(warn, "invalid message on stdin: " << e.message);
    reply_error(e.id, e.code, e.message);
    return;
  }
  auto& m = *parsed;
  if (!m_options.config_error.empty()) {
    if (m.kind == jsonrpc::Kind::request) {
      reply_error(m.id, jsonrpc::code::remote_failed, "claribi-bridge: " + m_options.config_error);
    } else {
      CLARIBI_LOG(debug, "not forwarded (configuration error): " << m.method);
    }
    return;
  }
  if (m.kind == jsonrpc::Kind::response && m.id.rfind(k_roots_id_prefix, 0) == 0) {
    on_roots_answer(m);  // the answer to the bridge's own roots/list, not the remote's
    return;
  }
  if (m.kind == jsonrpc::Kind::request && m.method == "initialize") {
    const auto* params = json::member(m.doc, "params");
    const auto* caps = params ? json::member(*params, "capabilities") : nullptr;
    m_client_has_roots = caps != nullptr && json::member(*caps, "roots") != nullptr;
  }
  if (m.kind == jsonrpc::Kind::notification && m_client_has_roots &&
      (m.method == "notifications/initialized" || m.method == "notifications/roots/list_changed")) {
    ask_client_roots();
  }
  std::shared_ptr<const transport::UploadBody> upload;
  if (m.kind == jsonrpc::Kind::request) {
    if (m.method == "server/discover") {
      // Dual-era clients fall back to initialize on "method not found".
      reply_error(m.id, jsonrpc::code::method_not_found,
                  "Method not found: server/discover (this bridge speaks MCP 2025 revisions; "
                  "send initialize)");
      return;
    }
    if (m_pending.count(m.id) != 0) {
      reply_error(m.id, jsonrpc::code::invalid_request,
                  "request id " + m.id + " is already used by a request still in flight");
      return;
    }
    auto prepared = m_tools.prepare_request(m);
    if (prepared.outcome == PreparedRequest::Outcome::rpc_error) {
      CLARIBI_LOG(info, "refused request " << m.id << ": " << prepared.message);
      reply_error(m.id, jsonrpc::code::invalid_params, prepared.message);
      return;
    }
    if (prepared.outcome == PreparedRequest::Outcome::tool_error) {
      CLARIBI_LOG(info, "request " << m.id << ": " << prepared.message);
      m_out.write_line("{\"jsonrpc\":\"2.0\",\"id\":" + m.id +
                       ",\"result\":{\"content\":[{\"type\":\"text\",\"text\":" +
                       json::quote(prepared.message) + "}],\"isError\":true}}");
      return;
    }
    upload = std::move(prepared.upload);
    if (upload) {
      CLARIBI_LOG(info, "request " << m.id << " sends " << upload->path << " (" << upload->file_size
                                   << " bytes) as base64");
    }
    track(m);
  } else if (m.kind == jsonrpc::Kind::notification && m.method == "notifications/cancelled") {
    const auto* params = json::member(m.doc, "params");
    const auto* rid = params ? json::member(*params, "requestId") : nullptr;
    if (rid != nullptr) {
      auto id = jsonrpc::id_text(*rid);
      if (m_pending.count(id) != 0) {
        forget(id);
        if (m_remote) m_remote->abandon(id);
      }
    }
  }
  send_to_remote(std::move(m), std::move(upload));
}

void Bridge::send_to_remote(jsonrpc::Message&& m,
                            std::shared_ptr<const transport::UploadBody> upload) {
  if (m_key_state != KeyState::ready && m_options.load_api_key) {
    m_held.push_back(Held{std::move(m), std::move(upload)});
    if (m_key_state == KeyState::unloaded) {
      m_key_state = KeyState::loading;
      run_off_thread<Loaded>(
          [load = m_options.load_api_key, auth = m_options.oauth] {
            Loaded l;
            l.key = load();
            if (auth && (!l.key || !*l.key)) {
              auto t = auth->load();
              if (t && *t) {
                l.tokens = std::move(**t);
                // Expired (or nearly): refresh now rather than meet a 401.
                if (l.tokens->expires_at != 0 && !l.tokens->refresh_token.empty() &&
                    l.tokens->expires_at <= oauth::now_seconds() + 5) {
                  if (auto r = auth->refresh(l.tokens->access_token)) l.tokens = std::move(*r);
                }
              }
            }
            return l;
          },
          [this](Loaded&& loaded) { on_credentials_loaded(std::move(loaded)); });
      remote();  // libcurl and TLS set-up overlap the lookup; nothing is sent before it ends
    }
    return;
  }
  send_now(std::move(m), std::move(upload));
}

void Bridge::send_now(jsonrpc::Message&& m, std::shared_ptr<const transport::UploadBody> upload) {
  if (!upload) {
    remote().send(std::move(m));
    return;
  }
  std::function<void(std::uint64_t, std::uint64_t)> progress;
  auto it = m_pending.find(m.id);
  if (it != m_pending.end() && !it->second.progress_token.empty()) {
    progress = [this, id = m.id](std::uint64_t sent, std::uint64_t total) {
      on_upload_progress(id, sent, total);
    };
  }
  remote().send(std::move(m), std::move(upload), std::move(progress));
}

void Bridge::ask_client_roots() {
  // The client's roots open their directories for uploads, like --upload-dir.
  auto id = std::string(k_roots_id_prefix) + std::to_string(++m_roots_requests) + "\"";
  m_out.write_line("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"roots/list\"}");
}

void Bridge::on_roots_answer(const jsonrpc::Message& m) {
  const auto* result = json::member(m.doc, "result");
  const auto* roots = result ? json::member(*result, "roots") : nullptr;
  if (roots == nullptr || !roots->IsArray()) {
    CLARIBI_LOG(warn, "the client's answer to roots/list has no roots: " << log::redact(m.raw));
    return;
  }
  std::vector<std::string> paths;
  for (const auto& r : roots->GetArray()) {
    auto uri = std::string(json::string_or_empty(json::member(r, "uri")));
    if (uri.rfind("file://", 0) != 0) continue;
    auto path = file_uri_path(uri.substr(7));
    if (!path.empty() && path.front() == '/') paths.push_back(std::move(path));
  }
  CLARIBI_LOG(info, "the client's roots open " << paths.size() << " director"
                                               << (paths.size() == 1 ? "y" : "ies")
                                               << " for uploads");
  m_tools.set_roots(std::move(paths));
}

void Bridge::on_upload_progress(const std::string& id, std::uint64_t sent, std::uint64_t total) {
  auto it = m_pending.find(id);
  if (it == m_pending.end()) return;
  auto& p = it->second;
  p.uploaded = sent;
  arm_timer(id, p);  // an upload that moves is not stuck
  m_out.write_line(
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{"
      "\"progressToken\":" +
      p.progress_token + ",\"progress\":" + std::to_string(sent) +
      ",\"total\":" + std::to_string(total) + ",\"message\":\"claribi-bridge: file bytes sent\"}}");
}

void Bridge::on_credentials_loaded(Loaded&& loaded) {
  m_key_state = KeyState::ready;
  if (m_shutting_down) {
    m_held.clear();
    return;
  }
  auto& key = loaded.key;
  if (key && *key) {
    log::add_secret(**key);
    remote().set_authorization("Bearer " + **key);
    m_options.credential_source = CredentialSource::keychain;
  } else if (loaded.tokens) {
    use_tokens(*loaded.tokens);
    remote().set_authorization(loaded.tokens->token_type + " " + loaded.tokens->access_token);
  }
  auto held = std::move(m_held);
  m_held.clear();
  for (auto& h : held) send_now(std::move(h.message), std::move(h.upload));
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

void Bridge::on_auth_required(const transport::AuthChallenge& c) {
  const bool oauth_allowed =
      m_options.oauth && (m_options.credential_source == CredentialSource::none ||
                          m_options.credential_source == CredentialSource::oauth);
  if (!oauth_allowed) {
    std::string why = "the remote refused the credentials (HTTP " + std::to_string(c.status) + ")";
    if (m_options.credential_source != CredentialSource::none) {
      why += " from " + std::string(source_name(m_options.credential_source));
    }
    why +=
        ". Store a valid API key with 'claribi-bridge key set URL' (check with 'claribi-bridge "
        "status'), set CLARIBI_API_KEY, or pass --header 'Authorization: Bearer ...'";
    if (m_options.credential_source == CredentialSource::keychain) {
      why += "; or remove the stored key ('claribi-bridge key remove URL') to log in with OAuth";
    }
    if (!c.www_authenticate.empty())
      why += " (WWW-Authenticate: " + log::redact(c.www_authenticate) + ")";
    remote().auth_finished(claribi::fail(why));
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
        if (m_shutting_down) return;
        if (!t) {
          CLARIBI_LOG(error, "authorization failed: " << t.error().message);
          remote().auth_finished(claribi::fail(t.error().message));
          return;
        }
        use_tokens(*t);
        remote().auth_finished(t->token_type + " " + t->access_token);
      });
}

void Bridge::use_tokens(const oauth::TokenSet& tokens) {
  log::add_secret(tokens.access_token);
  if (!tokens.refresh_token.empty()) log::add_secret(tokens.refresh_token);
  m_access_token = tokens.access_token;
  m_options.credential_source = CredentialSource::oauth;
  schedule_refresh(tokens);
}

void Bridge::schedule_refresh(const oauth::TokenSet& tokens) {
  m_refresh_timer.cancel();
  if (tokens.expires_at == 0 || tokens.refresh_token.empty()) return;
  const std::int64_t lifetime_ms = (tokens.expires_at - tokens.obtained_at) * 1000;
  const std::int64_t margin_ms = std::clamp<std::int64_t>(lifetime_ms / 5, 200, 60000);
  const std::int64_t left_ms = (tokens.expires_at - oauth::now_seconds()) * 1000;
  auto delay = std::max<std::int64_t>(0, left_ms - margin_ms);
  m_refresh_timer.expires_after(std::chrono::milliseconds(delay));
  m_refresh_timer.async_wait([this](const std::error_code& ec) {
    if (ec || m_shutting_down || m_auth_round || m_refreshing) return;
    m_refreshing = true;
    run_off_thread<Result<oauth::TokenSet>>(
        [auth = m_options.oauth, current = m_access_token] { return auth->refresh(current); },
        [this](Result<oauth::TokenSet>&& t) {
          m_refreshing = false;
          if (m_shutting_down) return;
          if (!t) {
            CLARIBI_LOG(warn, "could not refresh the access token ahead of its expiry ("
                                  << t.error().message << "); the next refusal will log in");
            return;
          }
          CLARIBI_LOG(debug, "refreshed the access token ahead of its expiry");
          use_tokens(*t);
          remote().set_authorization(t->token_type + " " + t->access_token);
        });
  });
}

void Bridge::on_oversized(LineFramer::Oversized&& line) {
  auto limit = m_options.remote.max_message_bytes;
  auto id = jsonrpc::find_id(line.head, line.tail).value_or("");
  std::string message = "message of " + std::to_string(line.size) + " bytes exceeds the limit of " +
                        std::to_string(limit) + " bytes (--max-message-mb); it was not forwarded";
  CLARIBI_LOG(warn, message << (id.empty() ? " (no id found)" : " (id " + id + ")"));
  reply_error(id, jsonrpc::code::invalid_request, message);
}

void Bridge::track(const jsonrpc::Message& m) {
  Pending p;
  p.method = m.method;
  if (m.method == "tools/call") p.tool = tool_name_of(m);
  p.progress_token = progress_token_of(m);
  if (!p.progress_token.empty()) m_progress_owner[p.progress_token] = m.id;
  auto it = m_pending.emplace(m.id, std::move(p)).first;
  arm_timer(it->first, it->second);
}

void Bridge::arm_timer(const std::string& id, Pending& p) {
  if (m_options.timeout_ms <= 0) return;
  if (!p.timer) p.timer = std::make_unique<asio::steady_timer>(m_io);
  p.timer->expires_after(std::chrono::milliseconds(m_options.timeout_ms));
  p.timer->async_wait([this, id](const std::error_code& ec) {
    if (!ec) on_timeout(id);
  });
}

void Bridge::forget(const std::string& id) {
  auto it = m_pending.find(id);
  if (it == m_pending.end()) return;
  if (it->second.timer) it->second.timer->cancel();
  if (!it->second.progress_token.empty()) m_progress_owner.erase(it->second.progress_token);
  m_pending.erase(it);
  maybe_finish_after_eof();
}

void Bridge::on_timeout(const std::string& id) {
  auto it = m_pending.find(id);
  if (it == m_pending.end()) return;
  std::string method = it->second.method;
  forget(id);
  if (m_remote) m_remote->abandon(id);
  auto seconds = m_options.timeout_ms / 1000.0;
  std::ostringstream msg;
  msg << "claribi-bridge: no answer from the remote within " << seconds
      << " s (--timeout); the request was cancelled";
  CLARIBI_LOG(warn, "request " << id << " (" << method << ") timed out");
  reply_error(id, jsonrpc::code::request_timeout, msg.str());
  if (method != "initialize") {
    auto cancel = jsonrpc::parse(
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":" +
        id + ",\"reason\":\"timed out in claribi-bridge\"}}");
    if (cancel) send_to_remote(std::move(*cancel));
  }
}

void Bridge::on_remote_message(jsonrpc::Message&& m) {
  if (m.kind == jsonrpc::Kind::response) {
    auto it = m_pending.find(m.id);
    if (it == m_pending.end()) {
      CLARIBI_LOG(warn, "the remote answered request "
                            << m.id
                            << ", which is no longer pending (timed out or "
                               "cancelled); the answer is not forwarded");
      return;
    }
    m_tools.rewrite_response(it->second.method, m);
    if (!it->second.tool.empty()) {
      for (const auto& rule : m_options.capture) {
        if (rule.tool != it->second.tool) continue;
        if (auto minted = find_minted(rule, m.doc)) {
          capture_minted(std::move(m), *minted);
          return;
        }
      }
    }
    forget(m.id);
  } else if (m.kind == jsonrpc::Kind::notification && m.method == "notifications/progress") {
    const auto* params = json::member(m.doc, "params");
    const auto* token = params ? json::member(*params, "progressToken") : nullptr;
    if (token != nullptr) {
      auto owner = m_progress_owner.find(jsonrpc::id_text(*token));
      if (owner != m_progress_owner.end()) {
        auto p = m_pending.find(owner->second);
        if (p != m_pending.end()) {
          arm_timer(p->first, p->second);
          if (p->second.uploaded > 0) {
            // The bridge reported the upload in file bytes; the server counts from zero
            // after it. Keep the client's progress increasing.
            auto& doc_params = m.doc["params"];
            auto shift = [&](const char* name) {
              auto v = doc_params.FindMember(name);
              if (v != doc_params.MemberEnd() && v->value.IsNumber()) {
                v->value.SetDouble(v->value.GetDouble() + static_cast<double>(p->second.uploaded));
              }
            };
            shift("progress");
            shift("total");
            m.raw = json::to_string(m.doc);
          }
        }
      }
    }
  }
  m_out.write_line(std::move(m.raw));
}

void Bridge::capture_minted(jsonrpc::Message&& m, const Minted& minted) {
  if (!minted.api_key.empty()) log::add_secret(minted.api_key);
  if (!minted.access_token.empty()) log::add_secret(minted.access_token);
  if (m_options.credential_source != CredentialSource::header) {
    const auto& bearer = minted.access_token.empty() ? minted.api_key : minted.access_token;
    remote().set_authorization("Bearer " + bearer);
    m_options.credential_source = CredentialSource::minted;
    CLARIBI_LOG(info,
                "a tool minted credentials; this session now uses "
                    << (minted.access_token.empty() ? "the new API key" : "its access token"));
  }
  auto& pending = m_pending[m.id];
  if (pending.timer) pending.timer->cancel();
  auto answer = std::make_shared<jsonrpc::Message>(std::move(m));
  auto deliver = [this, answer, minted](std::string_view key_note) {
    if (m_pending.count(answer->id) == 0) return;  // the session ended meanwhile
    forget(answer->id);
    redact_minted(answer->doc, minted, key_note, k_token_note);
    m_out.write_line(json::to_string(answer->doc));
  };
  if (minted.api_key.empty()) {
    deliver(k_key_stored_note);
    return;
  }
  // The answer waits until the key is stored, so what it says is true.
  run_off_thread<Result<void>>(
      [store = m_options.store_api_key, key = minted.api_key]() -> Result<void> {
        if (!store) return fail("no credential store is configured");
        return store(key);
      },
      [deliver](Result<void>&& stored) {
        if (stored) {
          CLARIBI_LOG(info, "stored the minted API key in the keychain");
          deliver(k_key_stored_note);
          return;
        }
        CLARIBI_LOG(error, "could not store the minted API key: " << stored.error().message);
        deliver("[API key withheld by claribi-bridge: storing it in the OS keychain failed (" +
                stored.error().message +
                "); it is used for this session only. Mint a new key later and store it with "
                "'claribi-bridge key set']");
      });
}

void Bridge::on_remote_failure(const std::string& id, transport::RequestFailure&& f) {
  if (m_pending.count(id) == 0) return;
  forget(id);
  m_out.write_line(jsonrpc::error_response(id, f.code, f.message, f.data_json));
}

void Bridge::on_eof() {
  m_eof = true;
  CLARIBI_LOG(debug, "stdin closed; " << m_pending.size() << " request(s) in flight");
  if (m_pending.empty()) {
    shutdown();
    return;
  }
  m_grace.expires_after(std::chrono::milliseconds(k_eof_grace_ms));
  m_grace.async_wait([this](const std::error_code& ec) {
    if (!ec) shutdown();
  });
}

void Bridge::maybe_finish_after_eof() {
  if (m_eof && m_pending.empty() && !m_shutting_down) {
    asio::post(m_io, [this] { shutdown(); });
  }
}

void Bridge::shutdown() {
  if (m_shutting_down) return;
  m_shutting_down = true;
  m_grace.cancel();
  for (auto& [id, p] : m_pending) {
    if (p.timer) p.timer->cancel();
    reply_error(id, jsonrpc::code::remote_failed,
                "claribi-bridge is exiting (stdin closed or a signal) before the remote answered");
  }
  m_pending.clear();
  m_progress_owner.clear();
  m_grace.expires_after(std::chrono::milliseconds(k_hard_deadline_ms));
  m_grace.async_wait([this](const std::error_code& ec) {
    if (!ec) finish();
  });
  m_refresh_timer.cancel();
  if (m_remote) {
    m_remote->shutdown(k_delete_budget_ms, [this] { finish(); });
  } else {
    finish();
  }
}

void Bridge::finish() {
  if (m_finished) return;
  m_finished = true;
  m_grace.cancel();
  if (m_on_finished) m_on_finished();
}

}  // namespace claribi::daemon
