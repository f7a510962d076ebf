#include "daemon/bridge.hpp"

#include "oauth/crypto.hpp"
#include "util/log.hpp"
#include "util/platform.hpp"
#include "util/text.hpp"

#include <asio/post.hpp>

#include <algorithm>
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
constexpr const char* k_input_id_prefix = "\"claribi-bridge-input-";
/// Rounds of input_required one request may go through before the bridge gives up.
constexpr int k_max_input_rounds = 10;
/// How long a call to a 2025 server stays held for its 2026-07-28 client's answers.
constexpr std::chrono::minutes k_suspend_limit{10};

namespace modern = transport::modern;

std::string result_line(const std::string& id, const std::string& result) {
  return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":" + result + "}";
}

/// Whether the client declared what answering `method` (with `params`) needs.
std::string missing_capability(const json::Value& caps, std::string_view method,
                               const std::string& params) {
  if (method == "sampling/createMessage") {
    return json::member(caps, "sampling") ? "" : "sampling";
  }
  if (method == "roots/list") return json::member(caps, "roots") ? "" : "roots";
  if (method == "elicitation/create") {
    const auto* e = json::member(caps, "elicitation");
    if (e == nullptr) return "elicitation";
    auto p = json::parse_or_null(params);
    auto mode = json::string_or_empty(json::member(p, "mode"));
    // An empty elicitation capability means form mode (2025-11-25).
    if (mode == "url" && json::member(*e, "url") == nullptr) return "elicitation.url";
    if ((mode.empty() || mode == "form") && e->IsObject() && e->MemberCount() > 0 &&
        json::member(*e, "form") == nullptr) {
      return "elicitation.form";
    }
    return "";
  }
  return std::string(method);  // not an input request a client can answer
}

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
      m_schemas(
          m_tools,
          [this](const std::string& method, const std::string& params,
                 std::function<void(Result<jsonrpc::Message>)> done) {
            ask_remote(method, params, std::move(done));
          },
          [this](jsonrpc::Message&& call, std::string failure) {
            if (!m_shutting_down) send_request(std::move(call), failure);
          }),
      m_refresh_timer(io),
      m_poster(std::make_shared<Poster>()),
      m_grace(io),
      m_trim_timer(io) {
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
            [this](jsonrpc::Message&& m, const std::string& related) {
              on_remote_message(std::move(m), related);
            },
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
  route(std::move(*parsed));
}

void Bridge::route(jsonrpc::Message&& m) {
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
  if (m.kind == jsonrpc::Kind::response && m.id.rfind(k_input_id_prefix, 0) == 0) {
    on_input_answer(m);  // an answer to a question the remote embedded in input_required
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
  if (!translate(m)) return;
  if (m.kind == jsonrpc::Kind::request) {
    if (m_pending.count(m.id) != 0 || m_schemas.holds(m.id)) {
      reply_error(m.id, jsonrpc::code::invalid_request,
                  "request id " + m.id + " is already used by a request still in flight");
      return;
    }
    if (m_schemas.hold_if_needed(m)) return;
    send_request(std::move(m));
    return;
  }
  if (m.kind == jsonrpc::Kind::notification && m.method == "notifications/cancelled") {
    on_client_cancel(m);  // and the 2025 remote is told too
  }
  send_to_remote(std::move(m));
}

void Bridge::send_request(jsonrpc::Message&& m, const std::string& schema_failure) {
  if (!schema_failure.empty()) {
    auto why =
        "claribi-bridge did not send the call: it names a *_path argument, and the "
        "tool's arguments could not be learnt to tell whether that is a local file to "
        "send (" +
        schema_failure + "). List the tools and try again.";
    CLARIBI_LOG(info, "request " << m.id << ": " << why);
    m_out.write_line("{\"jsonrpc\":\"2.0\",\"id\":" + m.id +
                     ",\"result\":{\"content\":[{\"type\":\"text\",\"text\":" + json::quote(why) +
                     "}],\"isError\":true}}");
    return;
  }
  std::shared_ptr<const transport::UploadBody> upload;
  {
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
    if (upload && !m_pending[m.id].raw.empty()) m_pending[m.id].upload = upload;
  }
  send_to_remote(std::move(m), std::move(upload));
}

void Bridge::send_to_remote(jsonrpc::Message&& m,
                            std::shared_ptr<const transport::UploadBody> upload) {
  if (m_key_state != KeyState::ready && m_options.load_api_key) {
    m_held.push_back(Held{std::move(m), std::move(upload)});
    load_credentials();
    return;
  }
  send_now(std::move(m), std::move(upload));
}

void Bridge::load_credentials() {
  if (m_key_state == KeyState::unloaded) {
    m_key_state = KeyState::loading;
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
        [this](Loaded&& loaded) { on_credentials_loaded(std::move(loaded)); });
    remote();  // libcurl and TLS set-up overlap the lookup; nothing is sent before it ends
  }
}

void Bridge::send_now(jsonrpc::Message&& m, std::shared_ptr<const transport::UploadBody> upload) {
  transport::SendExtras extras;
  extras.headers = m_tools.param_headers(m);
  extras.at_most_once = m_tools.must_not_repeat(m);
  if (!m_session_init_id.empty() && m.id == m_session_init_id) {
    extras.may_log_in = m_session_may_log_in;
  }
  if (upload) {
    auto it = m_pending.find(m.id);
    if (it != m_pending.end() && !it->second.progress_token.empty()) {
      extras.on_upload_progress = [this, id = m.id](std::uint64_t sent, std::uint64_t total) {
        on_upload_progress(id, sent, total);
      };
    }
    extras.upload = std::move(upload);
  }
  remote().send(std::move(m), std::move(extras));
}

std::string Bridge::upstream_id_of(const std::string& client_id) const {
  auto it = m_pending.find(client_id);
  return it == m_pending.end() || it->second.upstream_id.empty() ? client_id
                                                                 : it->second.upstream_id;
}

bool Bridge::translate(jsonrpc::Message& m) {
  const bool request = m.kind == jsonrpc::Kind::request;
  const bool enveloped = request && !modern::envelope_version(m.doc).empty();
  if (request && m.method == "initialize") {
    m_client_era = ClientEra::legacy;  // even after a discover: served as a 2025 session
    const auto* params = json::member(m.doc, "params");
    auto who = era::identity_from_initialize(params);
    who.log_level = m_identity.log_level;
    m_identity = std::move(who);
  } else if (m_client_era == ClientEra::unknown && (enveloped || m.method == "server/discover")) {
    m_client_era = ClientEra::modern;
  }
  if (request && m.method != "server/discover") m_probe = false;
  if (m_client_era == ClientEra::modern && request && m_identity.info.empty()) {
    m_identity = era::identity_from_meta(m.doc);
  }

  if (m_upstream == Upstream::unknown) {
    if (m_options.protocol == era::Pin::legacy) {
      m_upstream = Upstream::legacy;
    } else if (request && (m.method == "initialize" || m_client_era == ClientEra::modern)) {
      // A probe (a client's own server/discover) learns the era but never logs in.
      discover_upstream(era::envelope(m_identity), m.method != "server/discover");
    } else {
      return true;  // before any initialize: whatever it is, the 2025 path answers it
    }
  }
  if (m_upstream == Upstream::discovering) {
    m_era_held.push_back(std::move(m));
    return false;
  }

  if (m_upstream == Upstream::modern) {
    if (!request) {
      if (m.kind == jsonrpc::Kind::notification && m.method == "notifications/cancelled") {
        on_client_cancel(m);  // closing the upstream stream is the whole cancellation
      } else if (m.method == "notifications/initialized" && m_client_era != ClientEra::modern) {
        // The 2025 session began: list changes now flow, as a 2025 server's would.
        auto discover = json::parse_or_null(m_discover_result);
        upstream_listen().start(json::member(discover, "capabilities"));
      } else {
        CLARIBI_LOG(debug, "not forwarded to a " << modern::k_version << " remote (it takes no "
                                                 << (m.method.empty() ? "responses" : m.method)
                                                 << ")");
      }
      return false;
    }
    if (m.method == "server/discover") {
      // Answered from the cache while its ttlMs lasts; a 2026-07-28 client asks the remote
      // itself after that (a 2025 client never sends one).
      const bool fresh = m_discover_unused || std::chrono::steady_clock::now() < m_discover_expires;
      if (fresh || m_client_era != ClientEra::modern) {
        m_discover_unused = false;
        answer_discover(m.id);
        return false;
      }
      return true;
    }
    if (m_client_era == ClientEra::modern) return true;  // its own envelope; pass through
    if (m.method == "initialize") {
      answer_initialize(m);
      return false;
    }
    if (m.method == "ping") {
      m_out.write_line(result_line(m.id, "{}"));
      return false;
    }
    if (m.method == "logging/setLevel") {
      const auto* params = json::member(m.doc, "params");
      m_identity.log_level =
          std::string(json::string_or_empty(params ? json::member(*params, "level") : nullptr));
      m_out.write_line(result_line(m.id, "{}"));
      return false;
    }
    if (m.method == "resources/subscribe" || m.method == "resources/unsubscribe") {
      const auto* params = json::member(m.doc, "params");
      const auto* uri = params ? json::member(*params, "uri") : nullptr;
      if (uri == nullptr || !uri->IsString()) {
        reply_error(m.id, jsonrpc::code::invalid_params, m.method + " needs params.uri");
        return false;
      }
      upstream_listen().change(uri->GetString(), m.method == "resources/subscribe",
                               [this, id = m.id](Result<void> r) {
                                 if (r) {
                                   m_out.write_line(result_line(id, "{}"));
                                 } else {
                                   reply_error(id, jsonrpc::code::remote_failed, r.error().message);
                                 }
                               });
      return false;
    }
    if (era::strip_task_augmentation(m.doc)) {
      CLARIBI_LOG(debug, "request " << m.id << ": task augmentation dropped (not offered)");
    }
    m.raw = era::stamp(m.doc, m_identity);
    return true;
  }

  // A 2025 remote.
  if (m_client_era != ClientEra::modern) return true;
  if (request && m.method == "server/discover") {
    if (!m_initialize_result.empty()) {
      answer_discover(m.id);
    } else {
      m_discover_waiting.push_back(m.id);
      open_legacy_session();
    }
    return false;
  }
  if (m_initialize_result.empty()) {
    m_era_held.push_back(std::move(m));
    open_legacy_session();
    return false;
  }
  if (request && resume_call(m)) return false;
  if (request && m.method.rfind("tasks/", 0) == 0) {
    // No 2025 server made a Tasks extension handle this client could name.
    reply_error(m.id, jsonrpc::code::method_not_found,
                "claribi-bridge: " + m.method +
                    " (Tasks extension) is not available: the remote "
                    "speaks a 2025 revision and created no task for this client");
    return false;
  }
  if (request && m.method == "subscriptions/listen") {
    local_listen().listen(m);
    return false;
  }
  if (m.kind == jsonrpc::Kind::notification && m.method == "notifications/cancelled") {
    const auto* params = json::member(m.doc, "params");
    const auto* rid = params ? json::member(*params, "requestId") : nullptr;
    if (rid != nullptr && local_listen().cancel(jsonrpc::id_text(*rid))) return false;
    // A resumed call is known upstream by its first id.
    auto upstream = rid != nullptr ? upstream_id_of(jsonrpc::id_text(*rid)) : std::string();
    if (!upstream.empty() && upstream != jsonrpc::id_text(*rid)) {
      on_client_cancel(m);
      m.doc["params"]["requestId"].CopyFrom(json::parse_or_null(upstream), m.doc.GetAllocator());
      m.raw = json::to_string(m.doc);
    }
  }
  if (request) m.raw = era::strip(m.doc);
  return true;
}

UpstreamListen& Bridge::upstream_listen() {
  if (!m_upstream_listen) {
    m_upstream_listen = std::make_unique<UpstreamListen>(
        m_io, UpstreamListen::Hooks{
                  [this](const std::string& id, const std::string& filter) {
                    auto listen = jsonrpc::parse("{\"jsonrpc\":\"2.0\",\"id\":" + id +
                                                 ",\"method\":\"subscriptions/listen\",\"params\":{"
                                                 "\"notifications\":" +
                                                 filter + "}}");
                    if (!listen) return;
                    listen->raw = era::stamp(listen->doc, m_identity);
                    send_to_remote(std::move(*listen));
                  },
                  [this](const std::string& id) {
                    if (m_remote) m_remote->abandon(id);
                  },
                  [this](std::string&& line) { m_out.write_line(std::move(line)); }});
  }
  return *m_upstream_listen;
}

LocalListen& Bridge::local_listen() {
  if (!m_local_listen) {
    m_local_listen = std::make_unique<LocalListen>(LocalListen::Hooks{
        [this](std::string&& line) { m_out.write_line(std::move(line)); },
        [this](const std::string& method, const std::string& uri,
               std::function<void(Result<void>)> done) {
          ask_remote(method, "{\"uri\":" + json::quote(uri) + "}",
                     [done = std::move(done)](Result<jsonrpc::Message> answer) {
                       if (!answer) {
                         done(fail(answer.error().message));
                       } else if (const auto* e = json::member(answer->doc, "error")) {
                         done(fail("the remote refused it: " + json::to_string(*e)));
                       } else {
                         done(Result<void>());
                       }
                     });
        }});
    auto init = json::parse_or_null(m_initialize_result);
    m_local_listen->set_capabilities(json::member(init, "capabilities"));
  }
  return *m_local_listen;
}

void Bridge::ask_remote(const std::string& method, const std::string& params_json,
                        std::function<void(Result<jsonrpc::Message>)> done) {
  auto id = json::quote("claribi-bridge-own-" + std::to_string(++m_bridge_ids));
  auto request =
      jsonrpc::parse("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":" + json::quote(method) +
                     ",\"params\":" + params_json + "}");
  if (!request) {
    done(fail(request.error().message));
    return;
  }
  if (m_upstream == Upstream::modern && modern::envelope_version(request->doc).empty()) {
    request->raw = era::stamp(request->doc, m_identity);
  }
  m_own[id] = std::move(done);
  send_to_remote(std::move(*request));
}

void Bridge::on_client_cancel(const jsonrpc::Message& m) {
  const auto* params = json::member(m.doc, "params");
  const auto* rid = params ? json::member(*params, "requestId") : nullptr;
  if (rid == nullptr) return;
  auto id = jsonrpc::id_text(*rid);
  if (m_schemas.cancel(id)) {
    CLARIBI_LOG(debug, "request " << id << " cancelled while its tool's schema was learnt");
    return;
  }
  if (m_pending.count(id) == 0) return;
  drop(id);
  CLARIBI_LOG(debug, "request " << id << " cancelled by the client; its upstream stream is closed");
}

void Bridge::discover_upstream(const std::string& meta, bool may_log_in) {
  m_upstream = Upstream::discovering;
  m_probe = !may_log_in;
  // The key lookup comes first, like for any message: hold the discover behind it.
  auto go = [this, meta] {
    remote().discover(meta,
                      [this](Result<transport::Discovery> d) { on_discovered(std::move(d)); });
  };
  if (m_key_state == KeyState::ready || !m_options.load_api_key) {
    go();
    return;
  }
  m_after_key.push_back(std::move(go));
  load_credentials();
}

void Bridge::on_discovered(Result<transport::Discovery>&& d) {
  if (m_shutting_down) return;
  auto held = std::move(m_era_held);
  m_era_held.clear();
  std::string failure;
  if (!d) {
    failure = d.error().message;
  } else if (!d->modern && m_options.protocol == era::Pin::modern) {
    failure = "the remote does not speak MCP " + std::string(modern::k_version) +
              " (--protocol 2026); try --protocol auto";
  }
  if (!failure.empty()) {
    CLARIBI_LOG(warn, "could not learn the remote's MCP revision: " << failure);
    m_upstream = Upstream::unknown;  // the next request tries again
    for (auto& m : held) {
      if (m.kind == jsonrpc::Kind::request) {
        reply_error(m.id, jsonrpc::code::remote_failed, "claribi-bridge: " + failure);
      }
    }
    maybe_finish_after_eof();
    return;
  }
  if (d->modern) {
    m_upstream = Upstream::modern;
    const auto* result = json::member(d->answer.doc, "result");
    m_discover_result = result ? json::to_string(*result) : "{}";
    const auto* ttl = result ? json::member(*result, "ttlMs") : nullptr;
    const auto ttl_ms = ttl && ttl->IsUint64() ? ttl->GetUint64() : 0;
    m_discover_expires =
        std::chrono::steady_clock::now() +
        std::chrono::milliseconds(std::min<std::uint64_t>(ttl_ms, 24ull * 3600 * 1000));
    m_discover_unused = std::any_of(held.begin(), held.end(), [](const jsonrpc::Message& h) {
      return h.method == "server/discover";
    });
    m_tools.set_header_params(true);
  } else {
    m_upstream = Upstream::legacy;
    m_era_assumed = d->assumed;
  }
  for (auto& m : held) route(std::move(m));
  maybe_finish_after_eof();
}

void Bridge::relearn_era(const std::string& authorization) {
  m_era_assumed = false;
  remote().set_authorization(authorization);
  remote().discover(
      era::envelope(m_identity),
      [this, authorization](Result<transport::Discovery> d) {
        if (m_shutting_down) return;
        if (!d || !d->modern) {
          CLARIBI_LOG(info, "with credentials the remote still answers as a 2025 server");
          remote().auth_finished(authorization);
          return;
        }
        CLARIBI_LOG(info, "with credentials the remote says it speaks MCP "
                              << modern::k_version << "; routing the waiting messages anew");
        auto back = remote().auth_finished_handing_back(authorization);
        m_upstream = Upstream::discovering;
        std::vector<std::string> routed_again;
        for (auto& raw : back) {
          auto m = jsonrpc::parse(std::move(raw));
          if (!m) continue;
          if (m->kind == jsonrpc::Kind::request && m->id == m_session_init_id) {
            // The session the bridge opened for a 2026-07-28 client: not needed any more.
            m_session_init_id.clear();
            m_session_opening = false;
            continue;
          }
          if (auto own = m_own.find(m->id); own != m_own.end()) {
            auto done = std::move(own->second);
            m_own.erase(own);
            done(claribi::fail("the remote turned out to speak MCP " +
                               std::string(modern::k_version) + "; asked again later"));
            continue;
          }
          if (m->kind == jsonrpc::Kind::request) routed_again.push_back(m->id);
          m_era_held.push_back(std::move(*m));  // after those held already, before forget()
        }
        for (const auto& id : routed_again) forget(id);
        auto waiting = std::move(m_discover_waiting);
        m_discover_waiting.clear();
        on_discovered(std::move(d));
        for (const auto& id : waiting) answer_discover(id);
      },
      /*during_auth=*/true);
}

void Bridge::answer_initialize(const jsonrpc::Message& m) {
  auto result = json::parse_or_null(m_discover_result);
  const auto* params = json::member(m.doc, "params");
  auto requested =
      json::string_or_empty(params ? json::member(*params, "protocolVersion") : nullptr);
  m_out.write_line(result_line(m.id, era::initialize_result(result, requested)));
}

void Bridge::answer_discover(const std::string& id) {
  if (m_upstream == Upstream::modern) {
    m_out.write_line(result_line(id, m_discover_result));
    return;
  }
  auto init = json::parse_or_null(m_initialize_result);
  m_out.write_line(result_line(id, era::discover_result(init)));
}

void Bridge::open_legacy_session() {
  if (m_session_opening) return;
  m_session_opening = true;
  m_session_init_id = json::quote("claribi-bridge-initialize-" + std::to_string(++m_bridge_ids));
  auto init = jsonrpc::parse(
      "{\"jsonrpc\":\"2.0\",\"id\":" + m_session_init_id +
      ",\"method\":\"initialize\",\"params\":" + era::initialize_params(m_identity) + "}");
  CLARIBI_LOG(info, "the client speaks MCP " << modern::k_version
                                             << ", the remote a 2025 revision: opening a session "
                                                "on the client's behalf");
  if (!init) return;
  // Opened for a probe alone (only server/discover waits): never a login or a browser.
  m_session_may_log_in = !m_era_held.empty();
  if (!m_session_may_log_in && m_key_state == KeyState::unloaded) m_probe = true;
  send_to_remote(std::move(*init));
}

void Bridge::on_session_opened(jsonrpc::Message&& m) {
  m_session_opening = false;
  auto held = std::move(m_era_held);
  m_era_held.clear();
  auto waiting = std::move(m_discover_waiting);
  m_discover_waiting.clear();
  const auto* result = json::member(m.doc, "result");
  if (result == nullptr) {
    std::string why = "the remote refused the session the bridge opened for the client";
    if (const auto* error = json::member(m.doc, "error")) why += ": " + json::to_string(*error);
    CLARIBI_LOG(warn, why);
    for (const auto& id : waiting)
      reply_error(id, jsonrpc::code::remote_failed, "claribi-bridge: " + why);
    for (auto& h : held) {
      if (h.kind == jsonrpc::Kind::request) {
        reply_error(h.id, jsonrpc::code::remote_failed, "claribi-bridge: " + why);
      }
    }
    maybe_finish_after_eof();
    return;
  }
  m_initialize_result = json::to_string(*result);
  auto initialized =
      jsonrpc::parse("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
  if (initialized) send_to_remote(std::move(*initialized));
  for (const auto& id : waiting) answer_discover(id);
  for (auto& h : held) route(std::move(h));
  maybe_finish_after_eof();
}

void Bridge::start_input_round(const std::string& client_id, const json::Value& result) {
  auto& p = m_pending[client_id];
  if (++p.input_rounds > k_max_input_rounds) {
    fail_input_round(client_id, jsonrpc::code::remote_failed,
                     "claribi-bridge: the remote asked for input " +
                         std::to_string(k_max_input_rounds) + " times for one request; giving up");
    return;
  }
  auto asked = era::parse_input_required(result);
  if (!asked) {
    fail_input_round(client_id, jsonrpc::code::remote_failed,
                     "claribi-bridge: the remote's input_required result is malformed: " +
                         asked.error().message);
    return;
  }
  auto caps = json::parse_or_null(m_identity.capabilities);
  for (const auto& r : asked->requests) {
    auto missing = missing_capability(caps, r.method, r.params);
    if (!missing.empty()) {
      fail_input_round(client_id, modern::k_missing_client_capability,
                       "claribi-bridge: the remote needs the client to answer " + r.method +
                           ", but the client did not declare the '" + missing + "' capability");
      return;
    }
  }
  if (p.timer) p.timer->cancel();  // a person may take a while to answer
  InputRound round;
  round.asked = std::move(*asked);
  std::vector<std::string> lines;
  for (const auto& r : round.asked.requests) {
    auto id = std::string(k_input_id_prefix) + std::to_string(++m_bridge_ids) + "\"";
    round.outstanding[id] = r.key;
    m_input_owner[id] = client_id;
    lines.push_back("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":" + json::quote(r.method) +
                    (r.params.empty() ? "" : ",\"params\":" + r.params) + "}");
  }
  CLARIBI_LOG(info, "request " << client_id << ": the remote asks for input (round "
                               << p.input_rounds << ", " << lines.size() << " question(s))");
  m_rounds[client_id] = std::move(round);
  for (auto& l : lines) m_out.write_line(std::move(l));
  if (lines.empty()) retry_with_answers(client_id);  // only state to carry back
}

void Bridge::on_input_answer(const jsonrpc::Message& m) {
  auto owner = m_input_owner.find(m.id);
  if (owner == m_input_owner.end()) {
    CLARIBI_LOG(warn, "the client answered " << m.id << ", which the bridge no longer waits for");
    return;
  }
  auto client_id = owner->second;
  m_input_owner.erase(owner);
  auto round = m_rounds.find(client_id);
  if (round == m_rounds.end()) return;
  auto key = round->second.outstanding[m.id];
  round->second.outstanding.erase(m.id);
  if (const auto* error = json::member(m.doc, "error")) {
    fail_input_round(client_id, jsonrpc::code::remote_failed,
                     "claribi-bridge: the client answered the remote's question '" + key +
                         "' with an error: " + json::to_string(*error));
    return;
  }
  const auto* result = json::member(m.doc, "result");
  round->second.answers[key] = result ? json::to_string(*result) : "{}";
  if (round->second.outstanding.empty()) retry_with_answers(client_id);
}

void Bridge::retry_with_answers(const std::string& client_id) {
  auto round = m_rounds.find(client_id);
  auto p = m_pending.find(client_id);
  if (round == m_rounds.end() || p == m_pending.end()) return;
  auto new_id = json::quote("claribi-bridge-retry-" + std::to_string(++m_bridge_ids));
  auto raw = era::retry_request(p->second.raw, new_id, round->second.answers, round->second.asked);
  // A path twin's file is sent again from disk: the kept text holds only its placeholder.
  std::shared_ptr<const transport::UploadBody> upload;
  if (const auto& sent = p->second.upload) {
    const auto& old = p->second.raw;
    auto placeholder =
        old.substr(sent->prefix.size(), old.size() - sent->prefix.size() - sent->suffix.size());
    auto at = raw.find(placeholder);
    if (at != std::string::npos) {
      auto body = std::make_shared<transport::UploadBody>(*sent);
      body->prefix = raw.substr(0, at);
      body->suffix = raw.substr(at + placeholder.size());
      upload = body;
    }
    p->second.upload = upload;
  }
  m_rounds.erase(round);
  m_alias.erase(p->second.upstream_id);
  p->second.upstream_id = new_id;
  p->second.raw = raw;
  m_alias[new_id] = client_id;
  arm_timer(client_id, p->second);
  auto retry = jsonrpc::parse(std::move(raw));
  if (!retry) {
    fail_input_round(client_id, jsonrpc::code::internal_error,
                     "claribi-bridge: could not build the retry: " + retry.error().message);
    return;
  }
  send_to_remote(std::move(*retry), std::move(upload));
}

void Bridge::fail_input_round(const std::string& client_id, int code, const std::string& message) {
  CLARIBI_LOG(warn, "request " << client_id << " failed: " << message);
  drop(client_id);
  reply_error(client_id, code, message);
}

void Bridge::drop(const std::string& client_id) {
  auto upstream = upstream_id_of(client_id);
  if (auto r = m_rounds.find(client_id); r != m_rounds.end()) {
    for (const auto& [qid, key] : r->second.outstanding) m_input_owner.erase(qid);
    m_rounds.erase(r);
  }
  m_alias.erase(upstream);
  forget(client_id);
  if (m_remote) m_remote->abandon(upstream);
}

void Bridge::suspend_call(jsonrpc::Message&& r, const std::string& related) {
  auto refuse = [this, &r](int code, const std::string& why) {
    CLARIBI_LOG(warn, "the remote asked the client " << r.method << ": " << why);
    auto refusal = jsonrpc::parse(jsonrpc::error_response(r.id, code, "claribi-bridge: " + why));
    if (refusal) send_to_remote(std::move(*refusal));
  };
  if (r.method == "ping") {
    auto pong = jsonrpc::parse(result_line(r.id, "{}"));
    if (pong) send_to_remote(std::move(*pong));
    return;
  }
  if (r.method != "elicitation/create" && r.method != "sampling/createMessage" &&
      r.method != "roots/list") {
    refuse(jsonrpc::code::method_not_found,
           r.method + " has no 2026-07-28 equivalent the client could answer");
    return;
  }
  // Which client request is this about? The one whose response stream carried it.
  std::string state;
  if (auto held = m_suspended_call.find(related); held != m_suspended_call.end()) {
    state = held->second;
  }
  auto alias = m_alias.find(related);
  const std::string client_id = alias != m_alias.end() ? alias->second : related;
  if (state.empty()) {
    auto p = m_pending.find(client_id);
    const bool multi_round = p != m_pending.end() && (p->second.method == "tools/call" ||
                                                      p->second.method == "prompts/get" ||
                                                      p->second.method == "resources/read");
    if (related.empty() || !multi_round) {
      refuse(jsonrpc::code::method_not_found,
             "the client speaks MCP " + std::string(modern::k_version) +
                 ", which takes questions only during tools/call, prompts/get or resources/read; "
                 "this one came outside any");
      return;
    }
  }
  const auto* params = json::member(r.doc, "params");
  auto caps = json::parse_or_null(m_identity.capabilities);
  auto missing = missing_capability(caps, r.method, params ? json::to_string(*params) : "");
  if (!missing.empty()) {
    refuse(jsonrpc::code::method_not_found,
           "the client did not declare the '" + missing + "' capability " + r.method + " needs");
    return;
  }
  if (state.empty()) {
    // Unguessable, so a client cannot resume another's call by chance.
    auto token = oauth::random_token(12);
    state = "claribi-bridge-state-" + std::to_string(++m_bridge_ids) + "-" +
            (token ? *token : std::string("0"));
    auto& call = m_suspended[state];
    call.upstream_id = related;
    call.pending = std::move(m_pending[client_id]);
    m_pending.erase(client_id);
    if (call.pending.timer) call.pending.timer->cancel();
    if (!call.pending.progress_token.empty()) {
      m_progress_owner.erase(call.pending.progress_token);
    }
    m_alias.erase(related);
    m_suspended_call[related] = state;
    m_waiting_retry[state] = client_id;
    // Nobody may answer for long: the server's questions are withdrawn after a while.
    call.timer = std::make_unique<asio::steady_timer>(m_io, k_suspend_limit);
    call.timer->async_wait([this, state](const std::error_code& ec) {
      if (!ec) end_suspended(state, "the client did not answer within 10 minutes");
    });
  }
  auto& call = m_suspended[state];
  const auto key = "claribi-bridge-" + std::to_string(++m_bridge_ids);
  CLARIBI_LOG(info, "the remote asks the client " << r.method << " during request " << related
                                                  << "; answered as input_required");
  call.asked.emplace(key, std::move(r));
  auto waiting = m_waiting_retry.find(state);
  if (waiting != m_waiting_retry.end()) {
    auto id = waiting->second;
    m_waiting_retry.erase(waiting);
    answer_suspended(state, id);
  }
}

void Bridge::answer_suspended(const std::string& state, const std::string& client_id) {
  auto& call = m_suspended[state];
  std::string requests;
  for (const auto& [key, r] : call.asked) {
    const auto* params = json::member(r.doc, "params");
    requests += (requests.empty() ? "" : ",") + json::quote(key) +
                ":{\"method\":" + json::quote(r.method) +
                (params ? ",\"params\":" + json::to_string(*params) : "") + "}";
  }
  m_out.write_line(result_line(client_id, "{\"resultType\":\"input_required\",\"inputRequests\":{" +
                                              requests +
                                              "},\"requestState\":" + json::quote(state) + "}"));
}

bool Bridge::resume_call(jsonrpc::Message& retry) {
  const auto* params = json::member(retry.doc, "params");
  auto state =
      std::string(json::string_or_empty(params ? json::member(*params, "requestState") : nullptr));
  if (state.rfind("claribi-bridge-state-", 0) != 0) return false;
  auto it = m_suspended.find(state);
  if (it == m_suspended.end()) {
    reply_error(retry.id, jsonrpc::code::invalid_params,
                "claribi-bridge: requestState names no call waiting for answers (it ended, "
                "timed out, or was already resumed)");
    return true;
  }
  auto& call = it->second;
  const auto* responses = params ? json::member(*params, "inputResponses") : nullptr;
  if (responses != nullptr && responses->IsObject()) {
    for (const auto& answer : responses->GetObject()) {
      auto asked =
          call.asked.find(std::string(answer.name.GetString(), answer.name.GetStringLength()));
      if (asked == call.asked.end()) continue;
      auto reply = jsonrpc::parse(result_line(asked->second.id, json::to_string(answer.value)));
      if (reply) send_to_remote(std::move(*reply));
      call.asked.erase(asked);
    }
  }
  if (!call.asked.empty()) {  // questions still open: ask them again
    answer_suspended(state, retry.id);
    return true;
  }
  // Every question answered: the call is the client's retry from now on.
  if (m_pending.count(retry.id) != 0) {
    reply_error(retry.id, jsonrpc::code::invalid_request,
                "request id " + retry.id + " is already used by a request still in flight");
    return true;
  }
  auto upstream = call.upstream_id;
  auto final_answer = std::move(call.final_answer);
  auto& p = m_pending[retry.id] = std::move(call.pending);
  if (call.timer) call.timer->cancel();
  m_suspended.erase(it);
  m_suspended_call.erase(upstream);
  m_waiting_retry.erase(state);
  if (!p.progress_token.empty()) m_progress_owner[p.progress_token] = retry.id;
  if (upstream != retry.id) {
    m_alias[upstream] = retry.id;
    p.upstream_id = upstream;
  }
  arm_timer(retry.id, p);
  if (!final_answer.empty()) {
    auto answer = jsonrpc::parse(std::move(final_answer));
    if (answer) on_remote_message(std::move(*answer), upstream);
  }
  return true;
}

void Bridge::end_suspended(const std::string& state, const std::string& why) {
  auto it = m_suspended.find(state);
  if (it == m_suspended.end()) return;
  CLARIBI_LOG(warn, "request " << it->second.upstream_id << " abandoned: " << why);
  for (const auto& [key, r] : it->second.asked) {
    auto refusal = jsonrpc::parse(
        jsonrpc::error_response(r.id, jsonrpc::code::remote_failed, "claribi-bridge: " + why));
    if (refusal) send_to_remote(std::move(*refusal));
  }
  auto cancel = jsonrpc::parse(
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":" +
      it->second.upstream_id + ",\"reason\":" + json::quote(why) + "}}");
  if (cancel) send_to_remote(std::move(*cancel));
  m_suspended_call.erase(it->second.upstream_id);
  m_waiting_retry.erase(state);
  m_suspended.erase(it);
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
  auto after = std::move(m_after_key);
  m_after_key.clear();
  for (auto& f : after) f();
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
  if (m_options.credential_source == CredentialSource::minted && !m_minted_key.empty() &&
      c.rejected_authorization != "Bearer " + m_minted_key) {
    // The conversation's access token was refused (expired, or the remote takes keys only):
    // the key minted with it comes next. While one exists, no browser opens.
    CLARIBI_LOG(info, "the remote refused the minted access token; using the minted API key");
    remote().auth_finished("Bearer " + m_minted_key);
    return;
  }
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
        auto authorization = t->token_type + " " + t->access_token;
        if (m_era_assumed) {
          relearn_era(authorization);  // the era probe was refused for want of these
          return;
        }
        remote().auth_finished(authorization);
      });
}

void Bridge::use_tokens(const oauth::TokenSet& tokens) {
  log::add_secret(tokens.access_token);
  if (!tokens.refresh_token.empty()) log::add_secret(tokens.refresh_token);
  m_access_token = tokens.access_token;
  m_options.credential_source = CredentialSource::oauth;
  if (!m_probe) schedule_refresh(tokens);  // a probe's refusal is an answer, not a refresh
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
  if (m_upstream == Upstream::modern && m_client_era != ClientEra::modern) p.raw = m.raw;
  if (m.method == "tools/call") p.tool = tool_name_of(m);
  p.progress_token = progress_token_of(m);
  if (!p.progress_token.empty()) m_progress_owner[p.progress_token] = m.id;
  auto it = m_pending.emplace(m.id, std::move(p)).first;
  arm_timer(it->first, it->second);
}

void Bridge::arm_timer(const std::string& id, Pending& p) {
  // A listen stream lasts as long as the client wants it; no answer is late.
  if (m_options.timeout_ms <= 0 || p.method == "subscriptions/listen") return;
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
  if (m_pending.empty()) {
    m_trim_timer.expires_after(std::chrono::seconds(1));
    m_trim_timer.async_wait([this](const std::error_code& ec) {
      if (!ec && m_pending.empty()) platform::release_free_memory();
    });
  }
  maybe_finish_after_eof();
}

void Bridge::on_timeout(const std::string& id) {
  auto it = m_pending.find(id);
  if (it == m_pending.end()) return;
  std::string method = it->second.method;
  auto upstream = upstream_id_of(id);
  drop(id);
  auto seconds = m_options.timeout_ms / 1000.0;
  std::ostringstream msg;
  msg << "claribi-bridge: no answer from the remote within " << seconds
      << " s (--timeout); the request was cancelled";
  CLARIBI_LOG(warn, "request " << id << " (" << method << ") timed out");
  reply_error(id, jsonrpc::code::request_timeout, msg.str());
  if (method != "initialize" && m_upstream != Upstream::modern) {
    auto cancel = jsonrpc::parse(
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":" +
        upstream + ",\"reason\":\"timed out in claribi-bridge\"}}");
    if (cancel) send_to_remote(std::move(*cancel));
  }
}

void Bridge::on_remote_message(jsonrpc::Message&& m, const std::string& related) {
  if (m.kind == jsonrpc::Kind::response && !m_session_init_id.empty() &&
      m.id == m_session_init_id) {
    on_session_opened(std::move(m));
    return;
  }
  if (m.kind == jsonrpc::Kind::response) {
    if (auto own = m_own.find(m.id); own != m_own.end()) {
      auto done = std::move(own->second);
      m_own.erase(own);
      done(std::move(m));
      return;
    }
  }
  if (m_upstream_listen && m_upstream_listen->on_remote_message(m)) return;
  if (m_local_listen && m.kind == jsonrpc::Kind::notification &&
      m_local_listen->on_remote_notification(m)) {
    return;
  }
  if (m.kind == jsonrpc::Kind::response) {
    if (auto held = m_suspended_call.find(m.id); held != m_suspended_call.end()) {
      // The call ended while its client was answering questions: kept for the retry.
      auto& call = m_suspended[held->second];
      call.final_answer = std::move(m.raw);
      return;
    }
    if (auto alias = m_alias.find(m.id); alias != m_alias.end()) {
      // The answer to a retry: the client knows the request by its own id.
      auto client_id = alias->second;
      m_alias.erase(alias);
      m.doc["id"].CopyFrom(json::parse_or_null(client_id), m.doc.GetAllocator());
      m.id = client_id;
      m.raw = json::to_string(m.doc);
    }
    auto it = m_pending.find(m.id);
    if (it == m_pending.end()) {
      CLARIBI_LOG(warn, "the remote answered request "
                            << m.id
                            << ", which is no longer pending (timed out or "
                               "cancelled); the answer is not forwarded");
      return;
    }
    if (m_upstream == Upstream::modern && m_client_era != ClientEra::modern) {
      const auto* result = json::member(m.doc, "result");
      if (result != nullptr && era::is_input_required(*result)) {
        start_input_round(m.id, *result);
        return;
      }
      if (result != nullptr && era::is_task_handle(*result)) {
        forget(m.id);
        reply_error(m.id, jsonrpc::code::remote_failed,
                    "claribi-bridge: the remote answered with a task handle (Tasks extension, "
                    "resultType \"task\"), which the bridge does not translate for a 2025 "
                    "client; the remote should not create tasks for a client that did not "
                    "declare the extension");
        return;
      }
    }
    if (m_client_era == ClientEra::modern && m_upstream == Upstream::legacy &&
        era::mark_complete(m.doc, it->second.method)) {
      m.raw = json::to_string(m.doc);
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
  } else if (m.kind == jsonrpc::Kind::request && m_client_era == ClientEra::modern) {
    suspend_call(std::move(m), related);  // a 2026-07-28 client takes no requests
    return;
  } else if (m.kind == jsonrpc::Kind::notification &&
             m.method == "notifications/tools/list_changed") {
    m_schemas.forget();
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
  if (!minted.api_key.empty()) {
    log::add_secret(minted.api_key);
    m_minted_key = minted.api_key;
  }
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
  if (!m_session_init_id.empty() && id == m_session_init_id) {
    auto failed = jsonrpc::parse(jsonrpc::error_response(id, f.code, f.message, f.data_json));
    if (failed) on_session_opened(std::move(*failed));
    return;
  }
  if (auto own = m_own.find(id); own != m_own.end()) {
    auto done = std::move(own->second);
    m_own.erase(own);
    done(fail(f.message));
    return;
  }
  if (auto held = m_suspended_call.find(id); held != m_suspended_call.end()) {
    // The held call failed while its client was answering: the retry gets the failure.
    m_suspended[held->second].final_answer =
        jsonrpc::error_response(id, f.code, f.message, f.data_json);
    return;
  }
  if (m_upstream_listen && m_upstream_listen->on_failure(id, f.message)) return;
  auto pending = m_pending.find(id);
  if (pending == m_pending.end()) return;
  const bool tool_call = pending->second.method == "tools/call";
  forget(id);
  if (tool_call && (f.http_status == 401 || f.http_status == 403)) {
    // A tool the remote serves only with credentials, and none could be had: a tool result,
    // so the model can tell the user what to do instead of the whole request failing.
    auto text = f.message +
                ". To use this tool, sign in first: create an account with the remote's signup "
                "tools if it has them (for clariBI: register_account, then verify_email, whose "
                "API key the bridge keeps), or store a key with 'claribi-bridge key set'.";
    m_out.write_line(result_line(id, "{\"content\":[{\"type\":\"text\",\"text\":" +
                                         json::quote(text) + "}],\"isError\":true}"));
    return;
  }
  m_out.write_line(jsonrpc::error_response(id, f.code, f.message, f.data_json));
}

void Bridge::on_eof() {
  m_eof = true;
  CLARIBI_LOG(debug, "stdin closed; " << m_pending.size() << " request(s) in flight");
  if (idle()) {
    shutdown();
    return;
  }
  m_grace.expires_after(std::chrono::milliseconds(k_eof_grace_ms));
  m_grace.async_wait([this](const std::error_code& ec) {
    if (!ec) shutdown();
  });
}

bool Bridge::idle() const {
  const bool only_listens = std::all_of(m_pending.begin(), m_pending.end(), [](const auto& p) {
    return p.second.method == "subscriptions/listen";
  });
  return only_listens && m_era_held.empty() && m_discover_waiting.empty() && m_schemas.idle();
}

void Bridge::maybe_finish_after_eof() {
  if (m_eof && idle() && !m_shutting_down) {
    asio::post(m_io, [this] { shutdown(); });
  }
}

void Bridge::shutdown() {
  if (m_shutting_down) return;
  m_shutting_down = true;
  m_grace.cancel();
  m_trim_timer.cancel();
  for (auto& [id, p] : m_pending) {
    if (p.timer) p.timer->cancel();
    reply_error(id, jsonrpc::code::remote_failed,
                "claribi-bridge is exiting (stdin closed or a signal) before the remote answered");
  }
  m_pending.clear();
  m_progress_owner.clear();
  std::vector<std::string> unanswered = std::move(m_discover_waiting);
  for (const auto& m : m_schemas.take_held()) unanswered.push_back(m.id);
  for (const auto& m : m_era_held) {
    if (m.kind == jsonrpc::Kind::request) unanswered.push_back(m.id);
  }
  for (const auto& id : unanswered) {
    reply_error(id, jsonrpc::code::remote_failed,
                "claribi-bridge is exiting (stdin closed or a signal) before the remote answered");
  }
  m_discover_waiting.clear();
  m_era_held.clear();
  m_grace.expires_after(std::chrono::milliseconds(k_hard_deadline_ms));
  m_grace.async_wait([this](const std::error_code& ec) {
    if (!ec) finish();
  });
  m_refresh_timer.cancel();
  if (m_upstream_listen) m_upstream_listen->stop();
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
