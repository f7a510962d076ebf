#include "transport/remote_session.hpp"

#include "transport/session.hpp"
#include "util/log.hpp"

#include <asio/post.hpp>

#include <algorithm>
#include <chrono>

namespace claribi::transport {
namespace {

/// How long requests wait for the remote to take notifications/initialized.
constexpr long k_gate_limit_ms = 5000;
/// New sessions lost while being opened, in a row, before the bridge gives up.
constexpr int k_max_reopen_restarts = 3;

}  // namespace

Session::Session(asio::io_context& io, HttpTransport& http, const RequestFactory& requests,
                 SessionLink& link)
    : m_io(io), m_http(http), m_requests(requests), m_link(link), m_gate_timer(io) {}

void Session::add_headers(std::vector<std::string>& headers) const {
  if (!m_id.empty()) headers.push_back("Mcp-Session-Id: " + m_id);
  if (!m_protocol_version.empty()) headers.push_back("MCP-Protocol-Version: " + m_protocol_version);
}

void Session::take_id(Outgoing& initialize, const HttpHead& head) {
  auto sid = head.header("mcp-session-id");
  if (auto problem = session_id_problem(sid); !problem.empty()) {
    initialize.bad_session_id = std::string(problem);
  } else if (!sid.empty()) {
    m_id = sid;
  }
}

void Session::capture_initialize_result(const jsonrpc::Message& answer) {
  const auto* result = json::member(answer.doc, "result");
  auto version = json::string_or_empty(result ? json::member(*result, "protocolVersion") : nullptr);
  if (!version.empty()) m_protocol_version = std::string(version);
  if (result != nullptr) m_initialized = true;
  m_link.initialized();
}

void Session::send_initialized(std::shared_ptr<Outgoing> o) {
  m_initialized_raw = o->raw.str();
  // Over HTTP each message travels on its own connection, so a request sent right after
  // this notification can overtake it; servers that refuse requests before `initialized`
  // (the Python SDK does) would then fail it. Hold them until the remote has taken it.
  o->opens_gate = true;
  o->on_accepted = [this] { open_gate(); };
  m_link.post(std::move(o));
  m_gate_closed = true;
  // A remote that takes the notification but never answers must not stall the session.
  m_gate_timer.expires_after(std::chrono::milliseconds(k_gate_limit_ms));
  m_gate_timer.async_wait([this](const std::error_code& ec) {
    if (ec || !m_gate_closed || m_link.closing()) return;
    CLARIBI_LOG(warn, "the remote has not acknowledged notifications/initialized after "
                          << k_gate_limit_ms / 1000 << " s; sending requests anyway");
    open_gate();
  });
}

void Session::initialize_ended(std::uint64_t send) {
  if (!m_initialize_pending || (send != 0 && send != m_initialize_sends)) return;
  m_initialize_pending = false;
  if (!m_reopening) release_held();  // the gate, if closed, holds all but initialized again
}

bool Session::hold_if_not_ready(const std::shared_ptr<Outgoing>& o) {
  // A client that does not wait for the answer to initialize (a script piping its messages)
  // would otherwise send the rest without the session id the answer brings.
  const bool before_session = m_initialize_pending && !o->modern && o->method != "initialize";
  if (!before_session && !m_reopening && !(m_gate_closed && !o->opens_gate)) return false;
  m_held.push_back(o);
  return true;
}

void Session::open_gate() {
  if (!m_gate_closed) return;
  m_gate_closed = false;
  m_gate_timer.cancel();
  if (!m_reopening) release_held();
}

void Session::channel_ready() {
  if (m_reopening) {
    send_replayed_initialize();
  } else {
    release_held();
  }
}

void Session::channel_failed(const std::string& why, long status) {
  if (m_reopening) {
    reopen_failed(why);
    return;
  }
  auto held = std::move(m_held);
  m_held.clear();
  for (auto& o : held) m_link.fail(o, why, status);
}

void Session::lost(std::shared_ptr<Outgoing> o) {
  if (o->internal && m_reopening) {
    // The session being opened was lost before it was ready (the remote restarted again):
    // open another, a few times, rather than wait for it forever.
    if (++m_reopen_restarts > k_max_reopen_restarts) {
      m_reopen_restarts = 0;
      reopen_failed("the remote lost each new session before it was ready");
      return;
    }
    m_reopening = false;
    reopen();
    return;
  }
  if (o->session_retries >= 1) {
    m_link.fail(o, "the remote ended the session again right after the bridge opened a new one",
                404);
    return;
  }
  ++o->session_retries;
  o->answered = false;
  if (o->opens_gate) {
    // The new session sends its own notifications/initialized; this one must not follow it.
    if (!m_reopening) reopen();
    open_gate();
    return;
  }
  if (o->generation < m_generation && !m_reopening) {
    m_link.post(std::move(o));
    return;
  }
  m_held.push_back(std::move(o));
  if (!m_reopening) reopen();
}

void Session::reopen() {
  if (m_initialize_raw.empty()) {
    reopen_failed("the client has not sent initialize yet");
    return;
  }
  CLARIBI_LOG(info,
              "the remote no longer knows session; opening a new session and replaying the "
              "client's initialize");
  m_reopening = true;
  m_id.clear();
  if (m_link.reopen_channel()) send_replayed_initialize();
}

void Session::send_replayed_initialize() {
  auto doc = json::parse_or_null(m_initialize_raw);
  auto id = m_link.internal_id("session");
  doc["id"].SetString(id.data(), static_cast<rapidjson::SizeType>(id.size()), doc.GetAllocator());
  auto o = std::make_shared<Outgoing>();
  o->kind = jsonrpc::Kind::request;
  o->method = "initialize";
  o->id = json::quote(id);
  o->raw = json::to_string(doc);
  o->internal = true;
  o->on_answer = [this](Result<jsonrpc::Message> answer) {
    if (!answer) {
      reopen_failed(answer.error().message);
      return;
    }
    if (const auto* err = json::member(answer->doc, "error")) {
      reopen_failed("the remote refused initialize: " + json::to_string(*err));
      return;
    }
    capture_initialize_result(*answer);
    auto complete = [this] {
      ++m_generation;
      m_reopening = false;
      m_reopen_restarts = 0;
      CLARIBI_LOG(info, "new session ready; resending " << m_held.size() << " message(s)");
      release_held();
    };
    if (m_initialized_raw.empty()) {
      complete();
      return;
    }
    auto n = std::make_shared<Outgoing>();
    n->kind = jsonrpc::Kind::notification;
    n->method = "notifications/initialized";
    n->raw = m_initialized_raw;
    n->internal = true;
    n->on_accepted = complete;
    m_link.post(std::move(n));
  };
  m_link.post(std::move(o));
}

void Session::reopen_failed(const std::string& why) {
  m_reopening = false;
  auto held = std::move(m_held);
  m_held.clear();
  for (auto& o : held) {
    m_link.fail(o, "the remote ended the session and opening a new one failed: " + why, 0);
  }
}

void Session::release_held() {
  auto held = std::move(m_held);
  m_held.clear();
  for (auto& o : held) {
    if (o->kind == jsonrpc::Kind::request && o->answered) continue;
    m_link.post(std::move(o));
  }
}

void Session::notification_failed(const Outgoing& o, const std::string& why) {
  if (o.internal && o.method == "notifications/initialized") reopen_failed(why);
  if (o.opens_gate) open_gate();
}

void Session::end(long budget_ms, std::function<void()> done) {
  if (m_id.empty()) {
    asio::post(m_io, std::move(done));
    return;
  }
  const auto& options = m_requests.options();
  auto req = m_requests.make("DELETE", options.url.text, "*/*", false);
  add_headers(req.headers);
  req.timeout_ms = budget_ms;
  req.connect_timeout_ms = std::min(budget_ms, options.connect_timeout_ms);
  HttpHandlers h;
  h.on_done = [done = std::move(done)](HttpDone&& d) {
    if (!d.ok) CLARIBI_LOG(debug, "DELETE of the session failed: " << d.error);
    done();
  };
  m_http.start(std::move(req), std::move(h));
}

}  // namespace claribi::transport
