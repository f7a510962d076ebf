#include "daemon/era_negotiator.hpp"

#include "transport/discover.hpp"
#include "transport/modern.hpp"
#include "util/log.hpp"

#include <algorithm>
#include <sstream>

namespace claribi::daemon {
namespace {

namespace modern = transport::modern;

std::string param_string(const jsonrpc::Message& m, const char* name) {
  const auto* params = json::member(m.doc, "params");
  return std::string(json::string_or_empty(params ? json::member(*params, name) : nullptr));
}

}  // namespace

EraNegotiator::EraNegotiator(asio::io_context& io, era::Pin pin, EraPeers peers, long timeout_ms,
                             EraCache cache)
    : m_io(io),
      m_pin(pin),
      m_peers(std::move(peers)),
      m_timeout_ms(timeout_ms),
      m_cache(std::move(cache)) {}

EraNegotiator::OwnDone EraNegotiator::take_own(const std::string& id) {
  auto it = m_own.find(id);
  if (it == m_own.end()) return nullptr;
  auto done = std::move(it->second.done);
  if (it->second.timer) it->second.timer->cancel();
  m_own.erase(it);
  return done;
}

EraNegotiator::~EraNegotiator() = default;

void EraNegotiator::stop() {
  m_stopped = true;
  if (m_upstream_listen) m_upstream_listen->stop();
}

std::vector<std::string> EraNegotiator::take_unanswered() {
  std::vector<std::string> ids = std::move(m_discover_waiting);
  m_discover_waiting.clear();
  for (const auto& m : m_held) {
    if (m.kind == jsonrpc::Kind::request) ids.push_back(m.id);
  }
  m_held.clear();
  return ids;
}

void EraNegotiator::learn_client(const jsonrpc::Message& m, bool request) {
  const bool enveloped = request && !modern::envelope_version(m.doc).empty();
  if (request && m.method == "initialize") {
    m_client_era = ClientEra::legacy;  // even after a discover: served as a 2025 session
    auto who = era::identity_from_initialize(json::member(m.doc, "params"));
    who.log_level = m_identity.log_level;
    m_identity = std::move(who);
  } else if (m_client_era == ClientEra::unknown && (enveloped || m.method == "server/discover")) {
    m_client_era = ClientEra::modern;
  }
  if (request && m.method != "server/discover") m_peers.auth.set_probe(false);
  if (client_modern() && request && m_identity.info.empty()) {
    m_identity = era::identity_from_meta(m.doc);
  }
}

bool EraNegotiator::translate(jsonrpc::Message& m) {
  const bool request = m.kind == jsonrpc::Kind::request;
  // Only a 2025 client's request to a 2025 remote goes out as its text came. Every other way
  // reads the client's envelope, stamps or strips: the document must be whole for that.
  if (m.trimmed && (m_upstream != Upstream::legacy || client_modern() ||
                    !modern::envelope_version(m.doc).empty())) {
    jsonrpc::make_whole(m);
  }
  learn_client(m, request);
  if (m_upstream == Upstream::unknown) {
    if (m_pin == era::Pin::legacy) {
      m_upstream = Upstream::legacy;
    } else if (request && (m.method == "initialize" || client_modern())) {
      // A probe (a client's own server/discover) learns the era but never logs in.
      if (!use_remembered(m)) {
        discover_upstream(era::envelope(m_identity), m.method != "server/discover");
      }
    } else {
      return true;  // before any initialize: whatever it is, the 2025 path answers it
    }
  }
  if (m_upstream == Upstream::discovering) {
    m_held.push_back(std::move(m));
    return false;
  }
  if (request && m_upstream == Upstream::legacy && m.method == "initialize" && !client_modern() &&
      m_cache.enabled()) {
    m_watched_initialize = m.id;  // its answer names the revision
    if (m_remembered) m_unconfirmed[m.id] = m.raw;
  } else if (request && m_remembered && m_upstream == Upstream::modern &&
             m_unconfirmed.size() < k_max_unconfirmed) {
    m_unconfirmed[m.id] = m.raw;
  }
  return m_upstream == Upstream::modern ? to_modern_remote(m, request)
                                        : to_legacy_remote(m, request);
}

bool EraNegotiator::to_modern_remote(jsonrpc::Message& m, bool request) {
  if (!request) {
    if (m.kind == jsonrpc::Kind::notification && m.method == "notifications/cancelled") {
      m_peers.cancel(m);  // closing the upstream stream is the whole cancellation
    } else if (m.method == "notifications/initialized" && !client_modern()) {
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
    if (fresh || !client_modern()) {
      m_discover_unused = false;
      answer_discover(m.id);
      return false;
    }
    return true;
  }
  if (client_modern()) return true;  // its own envelope; pass through
  if (m.method == "initialize") {
    answer_initialize(m);
    return false;
  }
  if (m.method == "ping") {
    answer_empty(m.id);
    return false;
  }
  if (m.method == "logging/setLevel") {
    m_identity.log_level = param_string(m, "level");
    answer_empty(m.id);
    return false;
  }
  if (m.method == "resources/subscribe" || m.method == "resources/unsubscribe") {
    const auto* params = json::member(m.doc, "params");
    const auto* uri = params ? json::member(*params, "uri") : nullptr;
    if (uri == nullptr || !uri->IsString()) {
      m_peers.links.reply_error(m.id, jsonrpc::code::invalid_params,
                                m.method + " needs params.uri");
      return false;
    }
    upstream_listen().change(
        uri->GetString(), m.method == "resources/subscribe", [this, id = m.id](Result<void> r) {
          if (r) {
            answer_empty(id);
          } else {
            m_peers.links.reply_error(id, jsonrpc::code::remote_failed, r.error().message);
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

bool EraNegotiator::to_legacy_remote(jsonrpc::Message& m, bool request) {
  if (!client_modern()) return true;
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
    m_held.push_back(std::move(m));
    open_legacy_session();
    return false;
  }
  if (request && m_peers.broker.resume_call(m)) return false;
  if (request && m.method.rfind("tasks/", 0) == 0) {
    // No 2025 server made a Tasks extension handle this client could name.
    m_peers.links.reply_error(m.id, jsonrpc::code::method_not_found,
                              "claribi-bridge: " + m.method +
                                  " (Tasks extension) is not available: the remote speaks a "
                                  "2025 revision and created no task for this client");
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
    auto upstream =
        rid != nullptr ? m_peers.table.upstream_id_of(jsonrpc::id_text(*rid)) : std::string();
    if (!upstream.empty() && upstream != jsonrpc::id_text(*rid)) {
      m_peers.cancel(m);
      m.doc["params"]["requestId"].CopyFrom(json::parse_or_null(upstream), m.doc.GetAllocator());
      m.raw = json::to_string(m.doc);
    }
  }
  if (request) m.raw = era::strip(m.doc);
  return true;
}

UpstreamListen& EraNegotiator::upstream_listen() {
  if (!m_upstream_listen) {
    m_upstream_listen = std::make_unique<UpstreamListen>(
        m_io, UpstreamListen::Hooks{
                  [this](const std::string& id, const std::string& filter) {
                    auto listen = jsonrpc::parse(jsonrpc::request(
                        id, "subscriptions/listen", "{\"notifications\":" + filter + "}"));
                    if (!listen) return;
                    listen->raw = era::stamp(listen->doc, m_identity);
                    m_peers.links.to_remote(std::move(*listen));
                  },
                  [this](const std::string& id) { m_peers.remote.abandon(id); },
                  [this](std::string&& line) { m_peers.links.to_client(std::move(line)); }});
  }
  return *m_upstream_listen;
}

LocalListen& EraNegotiator::local_listen() {
  if (!m_local_listen) {
    m_local_listen = std::make_unique<LocalListen>(LocalListen::Hooks{
        [this](std::string&& line) { m_peers.links.to_client(std::move(line)); },
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

void EraNegotiator::ask_remote(const std::string& method, const std::string& params_json,
                               std::function<void(Result<jsonrpc::Message>)> done) {
  auto id = json::quote("claribi-bridge-own-" + std::to_string(++m_ids));
  auto request = jsonrpc::parse(jsonrpc::request(id, method, params_json));
  if (!request) {
    done(fail(request.error().message));
    return;
  }
  if (m_upstream == Upstream::modern && modern::envelope_version(request->doc).empty()) {
    request->raw = era::stamp(request->doc, m_identity);
  }
  auto& own = m_own[id];
  own.done = std::move(done);
  if (m_timeout_ms > 0) {
    own.timer = std::make_unique<asio::steady_timer>(m_io, std::chrono::milliseconds(m_timeout_ms));
    own.timer->async_wait([this, id, method](const std::error_code& ec) {
      if (ec) return;
      auto late = take_own(id);
      if (!late) return;
      m_peers.remote.abandon(id);
      std::ostringstream why;
      why << "claribi-bridge: the remote did not answer its " << method << " within "
          << m_timeout_ms / 1000.0 << " s (--timeout)";
      late(fail(why.str()));
    });
  }
  m_peers.links.to_remote(std::move(*request));
}

bool EraNegotiator::take_remote_message(jsonrpc::Message& m) {
  if (m.kind == jsonrpc::Kind::response && check_remembered(m)) return true;
  if (m.kind == jsonrpc::Kind::response) {
    if (!m_session_init_id.empty() && m.id == m_session_init_id) {
      on_session_opened(std::move(m));
      return true;
    }
    if (auto done = take_own(m.id)) {
      done(std::move(m));
      return true;
    }
  }
  if (m_upstream_listen && m_upstream_listen->on_remote_message(m)) return true;
  return m_local_listen && m.kind == jsonrpc::Kind::notification &&
         m_local_listen->on_remote_notification(m);
}

bool EraNegotiator::take_failure(const std::string& id, const transport::RequestFailure& f) {
  if (auto it = m_unconfirmed.find(id); it != m_unconfirmed.end()) {
    auto raw = std::move(it->second);
    m_unconfirmed.erase(it);
    // What a 2025 server answers a request without a session: not found or not understood.
    const long s = f.http_status;
    const bool refused = (s == 400 || s == 404 || s == 405) && m_upstream != Upstream::legacy;
    auto again = jsonrpc::parse(refused ? std::move(raw) : std::string());
    if (refused && again) {
      m_peers.table.forget(id);
      if (m_remembered) {
        m_held.push_back(std::move(*again));
        contradicted("answered a " + std::string(modern::k_version) +
                     " request as a 2025 server does (HTTP " + std::to_string(s) + ")");
      } else if (m_upstream == Upstream::discovering) {
        m_held.push_back(std::move(*again));
      } else {
        m_peers.links.from_client(std::move(*again));
      }
      return true;
    }
  }
  if (!m_session_init_id.empty() && id == m_session_init_id) {
    auto failed = jsonrpc::parse(jsonrpc::error_response(id, f.code, f.message, f.data_json));
    if (failed) on_session_opened(std::move(*failed));
    return true;
  }
  if (auto done = take_own(id)) {
    done(fail(f.message));
    return true;
  }
  return m_upstream_listen && m_upstream_listen->on_failure(id, f.message);
}

std::string EraNegotiator::stateless_version(const jsonrpc::Message& m) const {
  if (m_upstream != Upstream::modern || m.kind != jsonrpc::Kind::request) return {};
  return std::string(modern::envelope_version(m.doc));
}

std::optional<bool> EraNegotiator::may_log_in(const std::string& id) const {
  if (m_session_init_id.empty() || id != m_session_init_id) return std::nullopt;
  return m_session_may_log_in;
}

void EraNegotiator::discover_upstream(const std::string& meta, bool may_log_in) {
  m_upstream = Upstream::discovering;
  m_peers.auth.set_probe(!may_log_in);
  // The key lookup comes first, like for any message: the discover waits behind it, ahead
  // of the messages its answer routes.
  m_peers.auth.when_ready(
      [this, meta] {
        m_peers.remote.discover(
            meta, [this](Result<transport::Discovery> d) { on_discovered(std::move(d)); }, false);
      },
      /*first=*/true);
}

void EraNegotiator::on_discovered(Result<transport::Discovery>&& d) {
  if (m_stopped) return;
  auto held = std::move(m_held);
  m_held.clear();
  std::string failure;
  if (!d) {
    failure = d.error().message;
  } else if (!d->modern && m_pin == era::Pin::modern) {
    failure = "the remote does not speak MCP " + std::string(modern::k_version) +
              " (--protocol 2026); try --protocol auto";
  }
  if (!failure.empty()) {
    CLARIBI_LOG(warn, "could not learn the remote's MCP revision: " << failure);
    m_upstream = Upstream::unknown;  // the next request tries again
    for (auto& m : held) {
      if (m.kind == jsonrpc::Kind::request) {
        m_peers.links.reply_error(m.id, jsonrpc::code::remote_failed, "claribi-bridge: " + failure);
      }
    }
    m_peers.settled();
    return;
  }
  if (!d->assumed) remember(d->modern, {});  // never a verdict for want of credentials
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
    m_peers.tools.set_header_params(true);
  } else {
    m_upstream = Upstream::legacy;
    m_assumed = d->assumed;
  }
  for (auto& m : held) m_peers.links.from_client(std::move(m));
  m_peers.settled();
}

bool EraNegotiator::after_login(const std::string& authorization) {
  if (!m_assumed) return false;
  relearn(authorization);  // the era probe was refused for want of these credentials
  return true;
}

void EraNegotiator::relearn(const std::string& authorization) {
  m_assumed = false;
  m_peers.remote.set_authorization(authorization);
  m_peers.remote.discover(
      era::envelope(m_identity),
      [this, authorization](Result<transport::Discovery> d) {
        if (m_stopped) return;
        if (d && !d->assumed) remember(d->modern, {});
        if (!d || !d->modern) {
          CLARIBI_LOG(info, "with credentials the remote still answers as a 2025 server");
          m_peers.remote.auth_finished(authorization);
          return;
        }
        CLARIBI_LOG(info, "with credentials the remote says it speaks MCP "
                              << modern::k_version << "; routing the waiting messages anew");
        auto back = m_peers.remote.hand_back(authorization);
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
          if (auto done = take_own(m->id)) {
            done(claribi::fail("the remote turned out to speak MCP " +
                               std::string(modern::k_version) + "; asked again later"));
            continue;
          }
          if (m->kind == jsonrpc::Kind::request) routed_again.push_back(m->id);
          m_held.push_back(std::move(*m));  // after those held already
        }
        for (const auto& id : routed_again) m_peers.table.forget(id);
        auto waiting = std::move(m_discover_waiting);
        m_discover_waiting.clear();
        on_discovered(std::move(d));
        for (const auto& id : waiting) answer_discover(id);
      },
      /*during_auth=*/true);
}

void EraNegotiator::answer_empty(const std::string& id) {
  m_peers.links.to_client(jsonrpc::result_response(id, "{}"));
}

void EraNegotiator::answer_initialize(const jsonrpc::Message& m) {
  auto result = json::parse_or_null(m_discover_result);
  auto requested = param_string(m, "protocolVersion");
  m_peers.links.to_client(
      jsonrpc::result_response(m.id, era::initialize_result(result, requested)));
}

void EraNegotiator::answer_discover(const std::string& id) {
  if (m_upstream == Upstream::modern) {
    m_peers.links.to_client(jsonrpc::result_response(id, m_discover_result));
    return;
  }
  auto init = json::parse_or_null(m_initialize_result);
  m_peers.links.to_client(jsonrpc::result_response(id, era::discover_result(init)));
}

void EraNegotiator::open_legacy_session() {
  if (m_session_opening) return;
  m_session_opening = true;
  m_session_init_id = json::quote("claribi-bridge-initialize-" + std::to_string(++m_ids));
  auto init = jsonrpc::parse(
      jsonrpc::request(m_session_init_id, "initialize", era::initialize_params(m_identity)));
  CLARIBI_LOG(info, "the client speaks MCP " << modern::k_version
                                             << ", the remote a 2025 revision: opening a session "
                                                "on the client's behalf");
  if (!init) return;
  // Opened for a probe alone (only server/discover waits): never a login or a browser.
  m_session_may_log_in = !m_held.empty();
  if (!m_session_may_log_in && m_peers.auth.lookup_unstarted()) m_peers.auth.set_probe(true);
  m_peers.links.to_remote(std::move(*init));
}

void EraNegotiator::on_session_opened(jsonrpc::Message&& m) {
  m_session_opening = false;
  if (m_remembered && transport::refuses_as_modern(m.doc)) {
    // Opened on a stale verdict: the remote speaks 2026-07-28 now. What waited for the
    // session is routed again once it has said so.
    m_session_init_id.clear();
    for (const auto& id : m_discover_waiting) {
      auto again = jsonrpc::parse(jsonrpc::request(id, "server/discover", "{}"));
      if (again) m_held.push_back(std::move(*again));
    }
    m_discover_waiting.clear();
    contradicted("refused a 2025 initialize as a " + std::string(modern::k_version) +
                 " server does");
    return;
  }
  auto held = std::move(m_held);
  m_held.clear();
  auto waiting = std::move(m_discover_waiting);
  m_discover_waiting.clear();
  const auto* result = json::member(m.doc, "result");
  if (result == nullptr) {
    std::string why = "the remote refused the session the bridge opened for the client";
    if (const auto* error = json::member(m.doc, "error")) why += ": " + json::to_string(*error);
    CLARIBI_LOG(warn, why);
    for (const auto& id : waiting) {
      m_peers.links.reply_error(id, jsonrpc::code::remote_failed, "claribi-bridge: " + why);
    }
    for (auto& h : held) {
      if (h.kind == jsonrpc::Kind::request) {
        m_peers.links.reply_error(h.id, jsonrpc::code::remote_failed, "claribi-bridge: " + why);
      }
    }
    m_peers.settled();
    return;
  }
  m_initialize_result = json::to_string(*result);
  confirmed_legacy(*result);
  auto initialized = jsonrpc::parse(jsonrpc::notification("notifications/initialized"));
  if (initialized) m_peers.links.to_remote(std::move(*initialized));
  for (const auto& id : waiting) answer_discover(id);
  for (auto& h : held) m_peers.links.from_client(std::move(h));
  m_peers.settled();
}

}  // namespace claribi::daemon
