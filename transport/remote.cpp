#include "transport/remote.hpp"

#include "transport/modern.hpp"
#include "transport/session.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <asio/post.hpp>

#include <algorithm>
#include <chrono>

namespace claribi::transport {
namespace {

constexpr int k_max_resumes = 5;
/// Sends again of a request whose connection failed before any answer: 50, 100, 200 ms.
constexpr int k_max_net_retries = 3;
constexpr long k_net_retry_ms = 50;
constexpr long k_default_reconnect_ms = 500;
constexpr long k_max_backoff_ms = 30000;
/// How long requests wait for the remote to take notifications/initialized.
constexpr long k_gate_limit_ms = 5000;
constexpr std::string_view k_accept_both = "application/json, text/event-stream";

std::string snippet(std::string_view body) {
  std::string s(body.substr(0, 300));
  jsonrpc::flatten(s);
  return log::redact(s);
}

}  // namespace

struct Remote::Outgoing {
  jsonrpc::Kind kind = jsonrpc::Kind::notification;
  std::string method;
  std::string id;
  std::string raw;
  bool internal = false;  ///< the bridge's own message (session replay), never shown to the client
  /// Claims a stateless revision in its `_meta`: sent without session, with `headers`.
  bool modern = false;
  std::vector<std::string> headers;
  bool may_log_in = true;    ///< a 401 may start the authorization round
  bool during_auth = false;  ///< goes out while an authorization round holds the rest
  bool at_most_once = false;
  int net_retries = 0;
  int generation = 0;
  bool sent_with_session = false;
  /// Why the Mcp-Session-Id this initialize got cannot be used; empty when it can.
  std::string bad_session_id;
  int session_retries = 0;
  int auth_rounds = 0;
  std::shared_ptr<const std::string> sent_authorization;
  int resumes = 0;
  bool answered = false;
  HttpTransport::TransferId transfer = 0;
  /// A tools/call whose body is made from a file while it is sent (path twins).
  std::shared_ptr<const UploadBody> upload;
  std::function<void(std::uint64_t, std::uint64_t)> on_upload_progress;
  /// Internal requests: the answer (or failure) goes here instead of to the client.
  std::function<void(Result<jsonrpc::Message>)> on_answer;
  /// Internal requests that read refusals: the HTTP status (0 when none came) and the whole
  /// body of an answer that is not a response to them, before `on_answer` would fail.
  std::function<void(long, const std::string&, const std::string&)> on_refused;
  /// Internal notifications: called once the remote accepted it.
  std::function<void()> on_accepted;
  /// The client's notifications/initialized: later messages wait until the remote took it.
  bool opens_gate = false;
};

struct Remote::Stream {
  std::string request_id;  ///< the request whose response this stream carries, if any
  std::string last_event_id;
  long retry_ms = -1;
  int failures = 0;
  int invalid_events = 0;
  std::string last_invalid;
  HttpTransport::TransferId transfer = 0;
};

Remote::Remote(asio::io_context& io, HttpTransport& http, RemoteOptions options,
               RemoteEvents events)
    : m_io(io),
      m_http(http),
      m_options(std::move(options)),
      m_events(std::move(events)),
      m_get_timer(io),
      m_gate_timer(io) {
  for (const auto& h : m_options.headers) {
    m_static_headers.push_back(h.name + ": " + h.value);
    if (text::lower(h.name) == "authorization") {
      m_authorization = std::make_shared<const std::string>(h.value);
    }
  }
  if (m_options.transport == TransportKind::streamable_http) m_mode = Mode::streamable;
}

Remote::~Remote() = default;

void Remote::set_authorization(const std::string& value) {
  m_probe_challenge.reset();  // credentials exist now: that refusal is spent
  std::vector<std::string> kept;
  for (auto& h : m_static_headers) {
    if (text::lower(h.substr(0, 14)) != "authorization:") kept.push_back(std::move(h));
  }
  kept.push_back("Authorization: " + value);
  m_static_headers = std::move(kept);
  m_authorization = std::make_shared<const std::string>(value);
}

bool Remote::wait_for_auth(const std::shared_ptr<Outgoing>& o, const HttpHead& head) {
  if (!m_events.on_auth_required || !o->may_log_in || o->auth_rounds >= 2) return false;
  auto challenge = head.header("www-authenticate");
  if (head.status == 403 &&
      text::lower(challenge).find("insufficient_scope") == std::string::npos) {
    return false;  // forbidden for another reason: new credentials would not help
  }
  ++o->auth_rounds;
  o->transfer = 0;
  m_auth_waiting.push_back(o);
  if (m_auth_pending) return true;
  m_auth_pending = true;
  CLARIBI_LOG(info, "the remote asks for authorization (HTTP "
                        << head.status << ") on "
                        << (o->method.empty() ? "a response" : o->method));
  m_events.on_auth_required(AuthChallenge{
      head.status, challenge, o->sent_authorization ? *o->sent_authorization : std::string()});
  return true;
}

void Remote::auth_finished(Result<std::string> authorization) {
  if (!m_auth_pending) return;
  m_auth_pending = false;
  auto waiting = std::move(m_auth_waiting);
  m_auth_waiting.clear();
  if (authorization) set_authorization(*authorization);
  for (auto& o : waiting) {
    if (o->answered || m_closing) continue;
    if (authorization) {
      post(o);
    } else {
      fail(o, "authorization failed: " + authorization.error().message, 401);
    }
  }
}

std::vector<std::string> Remote::auth_finished_handing_back(const std::string& authorization) {
  std::vector<std::string> back;
  if (!m_auth_pending) return back;
  m_auth_pending = false;
  set_authorization(authorization);
  auto waiting = std::move(m_auth_waiting);
  m_auth_waiting.clear();
  for (auto& o : waiting) {
    if (o->internal) {
      post(o);
      continue;
    }
    if (o->upload) {  // its body exists only as this transfer's; the client sends it again
      fail(o, "the remote speaks another MCP revision than assumed; send the call again");
      continue;
    }
    if (o->kind == jsonrpc::Kind::request) {
      if (o->answered) continue;
      o->answered = true;
      if (auto it = m_in_flight.find(o->id); it != m_in_flight.end() && it->second == o) {
        m_in_flight.erase(it);
      }
    }
    back.push_back(o->raw);
  }
  return back;
}

long Remote::next_backoff(int failures) const {
  long ms = k_default_reconnect_ms << std::min(failures, 6);
  return std::min(ms, k_max_backoff_ms);
}

std::vector<std::string> Remote::request_headers(bool json_body, const std::string& accept,
                                                 bool with_session) const {
  std::vector<std::string> h = m_static_headers;
  h.push_back("Accept: " + accept);
  if (json_body) h.emplace_back("Content-Type: application/json");
  if (with_session) {
    if (!m_session_id.empty()) h.push_back("Mcp-Session-Id: " + m_session_id);
    if (!m_protocol_version.empty()) h.push_back("MCP-Protocol-Version: " + m_protocol_version);
  }
  return h;
}

HttpRequest Remote::make_request(std::string method, const std::string& url) const {
  HttpRequest r;
  r.method = std::move(method);
  r.url = url;
  r.max_body = m_options.max_message_bytes;
  r.ca_file = m_options.ca_file;
  r.connect_timeout_ms = m_options.connect_timeout_ms;
  r.allow_http_redirects = m_options.allow_http || m_options.url.is_loopback();
  return r;
}

bool Remote::retry_unanswered(const std::shared_ptr<Outgoing>& o, const HttpDone& done) {
  if (done.maybe_delivered) {
    fail(o, "the connection to " + display_url(m_options.url) +
                " broke after the request went out and before any answer (" + done.error +
                "): the call may or may not have run on the server. Check its effect (list or "
                "get what it would have changed) before repeating it.");
    return true;
  }
  if (o->net_retries >= k_max_net_retries || m_closing) return false;
  long delay = k_net_retry_ms << o->net_retries;
  ++o->net_retries;
  CLARIBI_LOG(info, (o->method.empty() ? "a response" : o->method)
                        << " got no answer (" << done.error << "); sending it again in " << delay
                        << " ms");
  o->transfer = 0;
  auto timer = std::make_shared<asio::steady_timer>(m_io, std::chrono::milliseconds(delay));
  timer->async_wait([this, o, timer](const std::error_code& ec) {
    if (ec || m_closing || (o->kind == jsonrpc::Kind::request && o->answered)) return;
    post(o);
  });
  return true;
}

void Remote::send(jsonrpc::Message&& message, SendExtras extras) {
  auto o = std::make_shared<Outgoing>();
  o->upload = std::move(extras.upload);
  o->on_upload_progress = std::move(extras.on_upload_progress);
  o->kind = message.kind;
  if (o->kind == jsonrpc::Kind::request) {
    auto version = modern::envelope_version(message.doc);
    if (!version.empty()) {
      o->modern = true;
      o->headers.push_back("MCP-Protocol-Version: " + modern::encode_header_value(version));
      for (auto& h : modern::standard_headers(message.method, message.doc)) {
        o->headers.push_back(std::move(h));
      }
    }
  }
  for (auto& h : extras.headers) o->headers.push_back(std::move(h));
  o->may_log_in = extras.may_log_in;
  o->at_most_once = extras.at_most_once;
  o->method = std::move(message.method);
  o->id = std::move(message.id);
  o->raw = std::move(message.raw);
  if (o->kind == jsonrpc::Kind::request && o->method == "initialize") {
    m_initialize_raw = o->raw;
  } else if (o->method == "notifications/initialized") {
    m_initialized_raw = o->raw;
    // Over HTTP each message travels on its own connection, so a request sent right after
    // this notification can overtake it; servers that refuse requests before `initialized`
    // (the Python SDK does) would then fail it. Hold them until the remote has taken it.
    o->opens_gate = true;
    o->on_accepted = [this] { open_gate(); };
    post(std::move(o));
    m_gate_closed = true;
    // A remote that takes the notification but never answers must not stall the session.
    m_gate_timer.expires_after(std::chrono::milliseconds(k_gate_limit_ms));
    m_gate_timer.async_wait([this](const std::error_code& ec) {
      if (ec || !m_gate_closed || m_closing) return;
      CLARIBI_LOG(warn, "the remote has not acknowledged notifications/initialized after "
                            << k_gate_limit_ms / 1000 << " s; sending requests anyway");
      open_gate();
    });
    return;
  }
  post(std::move(o));
}

void Remote::open_gate() {
  if (!m_gate_closed) return;
  m_gate_closed = false;
  m_gate_timer.cancel();
  if (!m_reinitializing) flush_deferred();
}

void Remote::abandon(const std::string& id) {
  auto it = m_in_flight.find(id);
  if (it == m_in_flight.end()) return;
  auto o = it->second;
  m_in_flight.erase(it);
  o->answered = true;
  if (o->transfer != 0) m_http.cancel(o->transfer);
}

void Remote::post(std::shared_ptr<Outgoing> o) {
  if (m_closing) return;
  if ((m_reinitializing || (m_gate_closed && !o->opens_gate)) && !o->internal) {
    m_deferred.push_back(std::move(o));
    return;
  }
  if (m_auth_pending && !o->during_auth) {
    // A login or refresh is under way: this would only be refused too.
    if (o->kind == jsonrpc::Kind::request) (o->internal ? m_internal : m_in_flight)[o->id] = o;
    m_auth_waiting.push_back(std::move(o));
    return;
  }
  o->sent_authorization = m_authorization;
  if (o->kind == jsonrpc::Kind::request) {
    (o->internal ? m_internal : m_in_flight)[o->id] = o;
  }
  if (m_mode == Mode::legacy) {
    legacy_post(std::move(o));
    return;
  }
  auto req = make_request("POST", m_options.url.text);
  bool is_initialize = o->method == "initialize";
  req.headers = request_headers(true, std::string(k_accept_both), !is_initialize && !o->modern);
  req.headers.insert(req.headers.end(), o->headers.begin(), o->headers.end());
  if (o->upload) {
    req.upload = o->upload;
  } else {
    req.body = o->raw;
  }
  req.at_most_once = o->at_most_once;
  o->generation = m_generation;
  o->sent_with_session = !m_session_id.empty() && !is_initialize && !o->modern;

  auto stream = std::make_shared<Stream>();
  if (o->kind == jsonrpc::Kind::request) stream->request_id = o->id;
  auto head = std::make_shared<HttpHead>();
  HttpHandlers h;
  h.on_head = [this, o, head](const HttpHead& got) {
    *head = got;
    if (o->method == "initialize" && got.status / 100 == 2) {
      auto sid = got.header("mcp-session-id");
      if (auto problem = session_id_problem(sid); !problem.empty()) {
        o->bad_session_id = std::string(problem);
      } else if (!sid.empty()) {
        m_session_id = sid;
      }
    }
  };
  h.on_event = [this, o, stream](SseEvent&& ev) {
    stream->last_event_id = ev.id;
    if (ev.type == "message") deliver_text(std::move(ev.data), nullptr, stream);
  };
  h.on_retry = [stream](long ms) { stream->retry_ms = ms; };
  h.on_upload_progress = o->on_upload_progress;
  if (o->kind != jsonrpc::Kind::request) ++m_sending;
  h.on_done = [this, o, head, stream](HttpDone&& done) {
    if (o->kind != jsonrpc::Kind::request) sent_one();
    finish_post(o, *head, std::move(done), stream);
  };
  CLARIBI_LOG(debug, "POST " << display_url(m_options.url) << " "
                             << (o->method.empty() ? "response " + o->id : o->method));
  o->transfer = m_http.start(std::move(req), std::move(h));
  stream->transfer = o->transfer;
}

void Remote::finish_post(const std::shared_ptr<Outgoing>& o, const HttpHead& head, HttpDone&& done,
                         const std::shared_ptr<Stream>& stream) {
  if (m_closing) return;
  const long status = head.status;
  const bool is_request = o->kind == jsonrpc::Kind::request;
  if (!done.ok && (status == 0 || done.maybe_delivered) && retry_unanswered(o, done)) return;
  if (!done.ok && status == 0) {
    auto why = "cannot reach " + display_url(m_options.url) + ": " + done.error +
               ". Check the URL, the network and proxy settings (or --ca-file for TLS "
               "errors); the next request tries again.";
    if (o->on_refused && !o->answered) {
      finish_refused(o, 0, {}, why);
      return;
    }
    fail(o, why);
    return;
  }
  if (done.too_large) {
    fail(o,
         "the remote's answer is larger than the limit of " +
             std::to_string(m_options.max_message_bytes >> 20) + " MiB (--max-message-mb)",
         status);
    return;
  }
  if (!done.ok && !head.is_event_stream() && status / 100 == 2 && !done.too_large) {
    // A head came, then the transfer failed (headers too large, broken chunked encoding, a
    // reset): libcurl's reason says more than "no answer". What may repeat is sent again.
    if (!o->at_most_once && o->net_retries < k_max_net_retries) {
      HttpDone again;
      again.error = done.error;
      if (retry_unanswered(o, again)) return;
    }
    std::string why =
        "the remote's answer broke off (HTTP " + std::to_string(status) + "): " + done.error;
    if (o->at_most_once) {
      why +=
          ". The call reached the server and may have run; its answer was lost. Check its "
          "effect before repeating it.";
    }
    fail(o, why, status);
    return;
  }
  if (o->sent_with_session && says_session_lost(status, done.body)) {
    on_session_lost(o);
    return;
  }
  if (!o->bad_session_id.empty()) {
    fail(o,
         "the remote is broken: its Mcp-Session-Id is " + o->bad_session_id +
             "; the bridge will not send it back",
         status);
    return;
  }
  if (o->method == "initialize" && !o->internal && m_probe_challenge &&
      (status == 400 || status == 404 || status == 405)) {
    // The era probe was refused for want of credentials and the client's initialize is not
    // understood: a 2026-07-28 remote that wants credentials. The client's request was
    // refused, so now is the time to log in; the era is learnt again after.
    auto challenge = std::move(*m_probe_challenge);
    m_probe_challenge.reset();
    if (wait_for_auth(o, challenge)) return;
  }
  if (o->method == "initialize" && !o->internal && m_mode == Mode::unknown &&
      m_options.transport == TransportKind::auto_detect &&
      (status == 400 || status == 404 || status == 405)) {
    switch_to_legacy(o);
    return;
  }
  if (status / 100 == 2) {
    if (!is_request && o->on_accepted) o->on_accepted();
    if (o->method == "notifications/initialized" && m_mode == Mode::streamable) {
      open_get_stream();
    }
    if (head.is_event_stream()) {
      if (is_request && !o->answered) {
        if (!stream->last_event_id.empty() && o->resumes < k_max_resumes) {
          resume(o, stream);
          return;
        }
        std::string why = "the remote closed the event stream before answering";
        if (!done.ok) why += " (" + done.error + ")";
        if (stream->invalid_events > 0) {
          why += "; it sent " + std::to_string(stream->invalid_events) +
                 " event(s) that are not JSON-RPC: " + stream->last_invalid;
        }
        fail(o, why, status);
      }
      return;
    }
    if (done.body.empty()) {
      if (is_request && !o->answered) {
        fail(o,
             "the remote accepted the request (HTTP " + std::to_string(status) +
                 ") but sent no answer",
             status);
      }
      return;
    }
    if (head.content_type == "application/json") {
      deliver_text(std::move(done.body), o, nullptr);
      if (is_request && !o->answered) {
        fail(o, "the remote's JSON answer holds no response to this request", status);
      }
      return;
    }
    fail(o,
         "the remote answered with Content-Type '" + head.content_type +
             "'; expected application/json or text/event-stream",
         status, snippet(done.body));
    return;
  }
  if ((status == 401 || status == 403) && wait_for_auth(o, head)) return;
  if (o->method == "server/discover" && (status == 401 || status == 403)) {
    m_probe_challenge = head;
  }
  if (o->on_refused && !o->answered) {
    finish_refused(o, status, done.body, "HTTP " + std::to_string(status));
    return;
  }
  // An error status. The remote may still have explained itself as a JSON-RPC error.
  if (is_request && head.content_type == "application/json" && !done.body.empty()) {
    auto parsed = jsonrpc::parse_body(done.body);
    if (parsed && parsed->size() == 1 && parsed->front().kind == jsonrpc::Kind::response &&
        parsed->front().id == o->id) {
      deliver(std::move(parsed->front()), o->id);
      return;
    }
  }
  std::string hint;
  if (status == 401 || status == 403) {
    hint =
        ": the remote refused the credentials. Store a valid API key with 'claribi-bridge key "
        "set URL' (check with 'claribi-bridge status'), set CLARIBI_API_KEY, pass "
        "--header 'Authorization: Bearer ...', or log in with 'claribi-bridge login URL'";
    auto challenge = head.header("www-authenticate");
    if (!challenge.empty()) hint += " (WWW-Authenticate: " + log::redact(challenge) + ")";
  } else if (status >= 500) {
    hint = ": the remote failed; try again later";
  }
  fail(o, "HTTP " + std::to_string(status) + " from " + display_url(m_options.url) + hint, status,
       snippet(done.body));
}

void Remote::finish_refused(const std::shared_ptr<Outgoing>& o, long status,
                            const std::string& body, const std::string& why) {
  o->answered = true;
  if (auto it = m_internal.find(o->id); it != m_internal.end() && it->second == o) {
    m_internal.erase(it);
  }
  o->on_refused(status, body, why);
}

void Remote::resume(const std::shared_ptr<Outgoing>& o, std::shared_ptr<Stream> stream) {
  ++o->resumes;
  long delay = stream->retry_ms >= 0 ? stream->retry_ms : next_backoff(o->resumes - 1);
  CLARIBI_LOG(info, "event stream for request " << o->id << " ended before its answer; resuming in "
                                                << delay << " ms from event "
                                                << stream->last_event_id);
  auto timer = std::make_shared<asio::steady_timer>(m_io, std::chrono::milliseconds(delay));
  timer->async_wait([this, o, stream, timer](const std::error_code& ec) {
    if (ec || m_closing || o->answered) return;
    if (o->generation != m_generation || m_reinitializing) {
      // The session the stream belonged to is gone (the remote restarted): its events cannot
      // be replayed, and a GET on the new session would only open its general stream.
      if (o->at_most_once) {
        fail(o,
             "the remote lost the session while answering: the call may or may not have run "
             "on the server. Check its effect before repeating it.");
      } else {
        on_session_lost(o);
      }
      return;
    }
    auto req = make_request("GET", m_options.url.text);
    req.headers = request_headers(false, "text/event-stream", true);
    req.headers.push_back("Last-Event-ID: " + stream->last_event_id);
    auto head = std::make_shared<HttpHead>();
    HttpHandlers h;
    h.on_head = [head](const HttpHead& got) { *head = got; };
    h.on_event = [this, stream](SseEvent&& ev) {
      stream->last_event_id = ev.id;
      if (ev.type == "message") deliver_text(std::move(ev.data), nullptr, stream);
    };
    h.on_retry = [stream](long ms) { stream->retry_ms = ms; };
    h.on_done = [this, o, head, stream](HttpDone&& done) {
      if (m_closing || o->answered) return;
      if (o->sent_with_session && says_session_lost(head->status, done.body)) {
        if (o->at_most_once) {
          // The POST reached the server (its stream had begun): a new session must not run
          // the call a second time.
          fail(o,
               "the remote lost the session while answering: the call may or may not have "
               "run on the server. Check its effect before repeating it.",
               head->status);
          return;
        }
        on_session_lost(o);
        return;
      }
      if (head->status / 100 == 2 && head->is_event_stream() && o->resumes < k_max_resumes) {
        resume(o, stream);
        return;
      }
      std::string why = done.ok ? "HTTP " + std::to_string(head->status) : done.error;
      fail(o, "the event stream was cut before the answer and resuming it failed (" + why + ")",
           head->status);
    };
    o->transfer = m_http.start(std::move(req), std::move(h));
  });
}

void Remote::fail(const std::shared_ptr<Outgoing>& o, std::string message, long status,
                  std::string detail) {
  if (o->kind != jsonrpc::Kind::request) {
    CLARIBI_LOG(warn, "could not deliver " << (o->method.empty() ? "a response" : o->method)
                                           << " to the remote: " << message);
    if (o->internal && o->method == "notifications/initialized") reinitialize_failed(message);
    if (o->opens_gate) open_gate();
    return;
  }
  if (o->answered) return;
  o->answered = true;
  auto& table = o->internal ? m_internal : m_in_flight;
  if (auto it = table.find(o->id); it != table.end() && it->second == o) table.erase(it);
  if (o->on_answer) {
    o->on_answer(claribi::fail(message));
    return;
  }
  std::string data = "{\"url\":" + json::quote(display_url(m_options.url));
  if (status != 0) data += ",\"httpStatus\":" + std::to_string(status);
  if (!detail.empty()) data += ",\"body\":" + json::quote(detail);
  data += "}";
  CLARIBI_LOG(warn, "request " << o->id << " (" << o->method << ") failed: " << message);
  m_events.on_request_failed(o->id, RequestFailure{jsonrpc::code::remote_failed,
                                                   "claribi-bridge: " + message, data, status});
}

void Remote::deliver_text(std::string text, const std::shared_ptr<Outgoing>& origin,
                          const std::shared_ptr<Stream>& stream) {
  // An event with an id and empty data only primes resumption (2025-11-25); no message.
  if (!origin && text.find_first_not_of(" \t\r\n") == std::string::npos) return;
  auto parsed = jsonrpc::parse_body(std::move(text));
  if (!parsed) {
    std::string why =
        "the remote sent something that is not a JSON-RPC message (" + parsed.error().message + ")";
    if (origin) {
      fail(origin, why);
    } else {
      CLARIBI_LOG(warn, why);
      if (stream) {
        ++stream->invalid_events;
        stream->last_invalid = parsed.error().message;
      }
    }
    return;
  }
  const std::string& related = origin ? origin->id : stream ? stream->request_id : m_no_request;
  for (auto& m : *parsed) deliver(std::move(m), related);
}

void Remote::deliver(jsonrpc::Message&& m, const std::string& related) {
  if (m.kind == jsonrpc::Kind::response) {
    if (auto it = m_internal.find(m.id); it != m_internal.end()) {
      auto o = it->second;
      m_internal.erase(it);
      o->answered = true;
      if (o->on_answer) o->on_answer(std::move(m));
      return;
    }
    if (auto it = m_in_flight.find(m.id); it != m_in_flight.end()) {
      auto o = it->second;
      m_in_flight.erase(it);
      o->answered = true;
      if (o->method == "initialize") capture_initialize_result(m);
    }
  }
  m_events.on_message(std::move(m), related);
}

void Remote::capture_initialize_result(const jsonrpc::Message& m) {
  const auto* result = json::member(m.doc, "result");
  auto version = json::string_or_empty(result ? json::member(*result, "protocolVersion") : nullptr);
  if (!version.empty()) m_protocol_version = std::string(version);
  if (m_mode == Mode::unknown) m_mode = Mode::streamable;
}

void Remote::discover(std::string meta_json, std::function<void(Result<Discovery>)> done,
                      bool during_auth) {
  send_discover(std::move(meta_json), 0, during_auth, std::move(done));
}

void Remote::send_discover(std::string meta_json, int attempt, bool during_auth,
                           std::function<void(Result<Discovery>)> done) {
  auto o = std::make_shared<Outgoing>();
  o->kind = jsonrpc::Kind::request;
  o->method = "server/discover";
  o->id = json::quote("claribi-bridge-discover-" + std::to_string(++m_internal_counter));
  o->raw = "{\"jsonrpc\":\"2.0\",\"id\":" + o->id +
           ",\"method\":\"server/discover\",\"params\":{\"_meta\":" + meta_json + "}}";
  o->internal = true;
  o->modern = true;
  o->may_log_in = false;  // the bridge's own request: a refusal is an answer, not a login
  o->during_auth = during_auth;
  o->headers = {"MCP-Protocol-Version: " + std::string(modern::k_version),
                "Mcp-Method: server/discover"};
  // The verdict on a JSON-RPC error, however it came (in a 200 or a 4xx body).
  auto on_error = [this, meta_json, attempt, during_auth, done](const json::Value& error) {
    const auto code = json::member(error, "code");
    const auto* data = json::member(error, "data");
    const auto* supported = data ? json::member(*data, "supported") : nullptr;
    if (code != nullptr && code->IsInt() && code->GetInt() == modern::k_unsupported_version &&
        supported != nullptr && supported->IsArray()) {
      bool ours = false;
      std::string modern_list;
      for (const auto& v : supported->GetArray()) {
        auto version = json::string_or_empty(&v);
        if (version == modern::k_version) ours = true;
        if (modern::is_modern_version(version)) {
          modern_list += (modern_list.empty() ? "" : ", ") + std::string(version);
        }
      }
      if (ours && attempt == 0) {
        CLARIBI_LOG(info,
                    "the remote refused the first server/discover as an unsupported "
                    "version while listing "
                        << modern::k_version << "; asking again");
        send_discover(meta_json, attempt + 1, during_auth, done);
        return;
      }
      if (!modern_list.empty()) {
        done(claribi::fail("the remote speaks MCP " + modern_list +
                           (ours ? " but refused it twice" : "") + "; this bridge speaks " +
                           std::string(modern::k_version) + " and the 2025 revisions"));
        return;
      }
    }
    CLARIBI_LOG(info, "the remote answered server/discover with an error ("
                          << log::redact(json::to_string(error))
                          << "): a 2025 server; using initialize");
    done(Discovery{});
  };
  o->on_answer = [this, on_error, done](Result<jsonrpc::Message> answer) {
    if (!answer) {
      done(claribi::fail("learning the remote's protocol revision failed: " +
                         answer.error().message));
      return;
    }
    if (const auto* error = json::member(answer->doc, "error")) {
      on_error(*error);
      return;
    }
    const auto* result = json::member(answer->doc, "result");
    const auto* versions = result ? json::member(*result, "supportedVersions") : nullptr;
    if (versions != nullptr && versions->IsArray()) {
      for (const auto& v : versions->GetArray()) {
        if (json::string_or_empty(&v) == modern::k_version) {
          m_mode = Mode::modern;
          CLARIBI_LOG(info, "the remote speaks MCP " << modern::k_version << " (stateless)");
          done(Discovery{true, std::move(*answer)});
          return;
        }
      }
    }
    CLARIBI_LOG(info,
                "the remote's server/discover names no revision this bridge speaks; "
                "using initialize");
    done(Discovery{});
  };
  o->on_refused = [this, on_error, done](long status, const std::string& body,
                                         const std::string& why) {
    if (status == 0) {
      done(claribi::fail(why));
      return;
    }
    if (status == 401 || status == 403) {
      // 2026-07-28 backward compatibility: a 4xx without a modern error body means a legacy
      // server. Whether it is one is learnt again once credentials exist.
      CLARIBI_LOG(info, "the remote wants credentials for server/discover (HTTP "
                            << status << "); assuming a 2025 server until there are some");
      Discovery assumed;
      assumed.assumed = true;
      done(std::move(assumed));
      return;
    }
    if (status >= 500) {
      done(claribi::fail("HTTP " + std::to_string(status) + " from " + display_url(m_options.url) +
                         " to server/discover: the remote failed; try again later"));
      return;
    }
    auto parsed = jsonrpc::parse_body(std::string(body));
    if (parsed && parsed->size() == 1) {
      if (const auto* error = json::member(parsed->front().doc, "error")) {
        on_error(*error);
        return;
      }
    }
    CLARIBI_LOG(info, "the remote refused server/discover (HTTP " << status << "): a 2025 server");
    done(Discovery{});
  };
  post(std::move(o));
}

void Remote::on_session_lost(std::shared_ptr<Outgoing> o) {
  if (o->internal && m_reinitializing) {
    // The session being opened was lost before it was ready (the remote restarted again):
    // open another, a few times, rather than wait for it forever.
    if (++m_reinit_restarts > 3) {
      m_reinit_restarts = 0;
      reinitialize_failed("the remote lost each new session before it was ready");
      return;
    }
    m_reinitializing = false;
    start_reinitialize();
    return;
  }
  if (o->session_retries >= 1) {
    fail(o, "the remote ended the session again right after the bridge opened a new one", 404);
    return;
  }
  ++o->session_retries;
  o->answered = false;
  if (o->opens_gate) {
    // The new session sends its own notifications/initialized; this one must not follow it.
    if (!m_reinitializing) start_reinitialize();
    open_gate();
    return;
  }
  if (o->generation < m_generation && !m_reinitializing) {
    post(std::move(o));
    return;
  }
  m_deferred.push_back(std::move(o));
  if (!m_reinitializing) start_reinitialize();
}

void Remote::start_reinitialize() {
  if (m_initialize_raw.empty()) {
    reinitialize_failed("the client has not sent initialize yet");
    return;
  }
  CLARIBI_LOG(info,
              "the remote no longer knows session; opening a new session and replaying the "
              "client's initialize");
  m_reinitializing = true;
  m_session_id.clear();
  if (m_get) {
    m_http.cancel(m_get->transfer);
    m_get_timer.cancel();
  }
  if (m_mode == Mode::legacy) {
    m_legacy_endpoint.clear();
    open_legacy_stream();  // the endpoint event sends the replayed initialize
    return;
  }
  m_get.reset();
  send_replayed_initialize();
}

void Remote::send_replayed_initialize() {
  auto doc = json::parse_or_null(m_initialize_raw);
  auto id = "claribi-bridge-session-" + std::to_string(++m_internal_counter);
  doc["id"].SetString(id.data(), static_cast<rapidjson::SizeType>(id.size()), doc.GetAllocator());
  auto o = std::make_shared<Outgoing>();
  o->kind = jsonrpc::Kind::request;
  o->method = "initialize";
  o->id = json::quote(id);
  o->raw = json::to_string(doc);
  o->internal = true;
  o->on_answer = [this](Result<jsonrpc::Message> answer) {
    if (!answer) {
      reinitialize_failed(answer.error().message);
      return;
    }
    if (const auto* err = json::member(answer->doc, "error")) {
      reinitialize_failed("the remote refused initialize: " + json::to_string(*err));
      return;
    }
    capture_initialize_result(*answer);
    auto complete = [this] {
      ++m_generation;
      m_reinitializing = false;
      m_reinit_restarts = 0;
      CLARIBI_LOG(info, "new session ready; resending " << m_deferred.size() << " message(s)");
      flush_deferred();
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
    post(std::move(n));
  };
  post(std::move(o));
}

void Remote::reinitialize_failed(const std::string& why) {
  m_reinitializing = false;
  auto deferred = std::move(m_deferred);
  m_deferred.clear();
  for (auto& o : deferred) {
    fail(o, "the remote ended the session and opening a new one failed: " + why);
  }
}

void Remote::flush_deferred() {
  auto deferred = std::move(m_deferred);
  m_deferred.clear();
  for (auto& o : deferred) {
    if (o->kind == jsonrpc::Kind::request && o->answered) continue;
    post(std::move(o));
  }
}

void Remote::open_get_stream() {
  if (m_closing || m_get_unsupported || m_mode != Mode::streamable) return;
  if (!m_get) m_get = std::make_shared<Stream>();
  auto s = m_get;
  auto req = make_request("GET", m_options.url.text);
  req.headers = request_headers(false, "text/event-stream", true);
  if (!s->last_event_id.empty()) req.headers.push_back("Last-Event-ID: " + s->last_event_id);
  auto head = std::make_shared<HttpHead>();
  auto generation = m_generation;
  HttpHandlers h;
  h.on_head = [head](const HttpHead& got) { *head = got; };
  h.on_event = [this, s](SseEvent&& ev) {
    s->last_event_id = ev.id;
    s->failures = 0;
    if (ev.type == "message") deliver_text(std::move(ev.data), nullptr, s);
  };
  h.on_retry = [s](long ms) { s->retry_ms = ms; };
  h.on_done = [this, s, head, generation](HttpDone&& done) {
    if (m_closing || m_get != s || generation != m_generation) return;
    if (head->status == 405) {
      m_get_unsupported = true;
      CLARIBI_LOG(info, "the remote offers no stream for server-initiated messages (GET 405)");
      return;
    }
    if (!m_session_id.empty() && says_session_lost(head->status, done.body)) {
      if (!m_reinitializing) start_reinitialize();
      return;
    }
    if (head->status / 100 != 2 || !head->is_event_stream()) ++s->failures;
    long delay = s->retry_ms >= 0 && s->failures == 0 ? s->retry_ms : next_backoff(s->failures);
    CLARIBI_LOG(debug, "GET stream ended ("
                           << (done.ok ? "HTTP " + std::to_string(head->status) : done.error)
                           << "); reconnecting in " << delay << " ms");
    schedule_get_stream(delay);
  };
  s->transfer = m_http.start(std::move(req), std::move(h));
}

void Remote::schedule_get_stream(long delay_ms) {
  m_get_timer.expires_after(std::chrono::milliseconds(delay_ms));
  m_get_timer.async_wait([this](const std::error_code& ec) {
    if (ec || m_closing) return;
    if (m_mode == Mode::legacy) {
      start_reinitialize();
    } else {
      open_get_stream();
    }
  });
}

void Remote::switch_to_legacy(std::shared_ptr<Outgoing> initialize) {
  CLARIBI_LOG(info,
              "the remote refused a streamable HTTP initialize; trying the HTTP+SSE transport "
              "(2024-11-05)");
  m_mode = Mode::legacy;
  initialize->answered = false;
  m_deferred.push_back(std::move(initialize));
  open_legacy_stream();
}

void Remote::open_legacy_stream() {
  auto s = std::make_shared<Stream>();
  m_get = s;
  auto req = make_request("GET", m_options.url.text);
  req.headers = request_headers(false, "text/event-stream", false);
  auto head = std::make_shared<HttpHead>();
  HttpHandlers h;
  h.on_head = [head](const HttpHead& got) { *head = got; };
  h.on_event = [this, s](SseEvent&& ev) {
    s->last_event_id = ev.id;
    if (ev.type == "endpoint") {
      auto endpoint = resolve_url(m_options.url, ev.data);
      if (!endpoint) {
        CLARIBI_LOG(error,
                    "the remote's SSE endpoint event is unusable: " << endpoint.error().message);
        return;
      }
      if (endpoint->scheme != m_options.url.scheme || endpoint->host != m_options.url.host ||
          endpoint->port != m_options.url.port) {
        CLARIBI_LOG(error, "the remote's SSE endpoint " << display_url(*endpoint)
                                                        << " is on another origin; refusing it");
        return;
      }
      m_legacy_endpoint = endpoint->text;
      s->failures = 0;
      if (m_reinitializing) {
        send_replayed_initialize();
      } else {
        flush_deferred();
      }
    } else if (ev.type == "message") {
      deliver_text(std::move(ev.data), nullptr, s);
    }
  };
  h.on_done = [this, s, head](HttpDone&& done) {
    if (m_closing || m_get != s) return;
    bool had_endpoint = !m_legacy_endpoint.empty();
    m_legacy_endpoint.clear();
    std::string why = done.ok ? "HTTP " + std::to_string(head->status) : done.error;
    if (!had_endpoint) {
      std::string msg = "the remote answered neither streamable HTTP nor HTTP+SSE (GET " +
                        display_url(m_options.url) + ": " + why + ")";
      if (m_reinitializing) {
        reinitialize_failed(msg);
      } else {
        auto deferred = std::move(m_deferred);
        m_deferred.clear();
        for (auto& o : deferred) fail(o, msg, head->status);
      }
      return;
    }
    // The legacy session lives as long as this stream: answers still owed are lost.
    auto owed = m_in_flight;
    for (auto& [id, o] : owed)
      fail(o, "the remote's SSE stream closed before answering (" + why + ")");
    ++s->failures;
    schedule_get_stream(next_backoff(s->failures));
  };
  s->transfer = m_http.start(std::move(req), std::move(h));
}

void Remote::legacy_post(std::shared_ptr<Outgoing> o) {
  if (m_legacy_endpoint.empty()) {
    m_deferred.push_back(std::move(o));
    return;
  }
  auto req = make_request("POST", m_legacy_endpoint);
  req.headers = request_headers(true, std::string(k_accept_both), false);
  if (o->upload) {
    req.upload = o->upload;
  } else {
    req.body = o->raw;
  }
  req.at_most_once = o->at_most_once;
  o->generation = m_generation;
  o->sent_with_session = true;
  auto head = std::make_shared<HttpHead>();
  HttpHandlers h;
  h.on_head = [head](const HttpHead& got) { *head = got; };
  h.on_upload_progress = o->on_upload_progress;
  if (o->kind != jsonrpc::Kind::request) ++m_sending;
  h.on_done = [this, o, head](HttpDone&& done) {
    if (o->kind != jsonrpc::Kind::request) sent_one();
    if (m_closing) return;
    if (!done.ok && head->status == 0 && retry_unanswered(o, done)) return;
    if (!done.ok && head->status == 0) {
      fail(o, "cannot reach " + display_url(m_options.url) + ": " + done.error);
      return;
    }
    if (head->status == 404) {
      on_session_lost(o);
      return;
    }
    if ((head->status == 401 || head->status == 403) && wait_for_auth(o, *head)) return;
    if (head->status / 100 != 2) {
      fail(o, "HTTP " + std::to_string(head->status) + " from the remote's SSE message endpoint",
           head->status, snippet(done.body));
      return;
    }
    if (o->kind != jsonrpc::Kind::request && o->on_accepted) o->on_accepted();
    if (head->content_type == "application/json" && !done.body.empty()) {
      deliver_text(std::move(done.body), nullptr, nullptr);
    }
  };
  o->transfer = m_http.start(std::move(req), std::move(h));
}

void Remote::shutdown(long budget_ms, std::function<void()> done) {
  m_closing = true;
  m_get_timer.cancel();
  m_gate_timer.cancel();
  for (auto& [id, o] : m_in_flight) m_http.cancel(o->transfer);
  for (auto& [id, o] : m_internal) m_http.cancel(o->transfer);
  if (m_get) m_http.cancel(m_get->transfer);
  if (m_sending == 0) {
    end_session(budget_ms, std::move(done));
    return;
  }
  // Notifications and responses already on their way (a cancellation, the client's last
  // answer) get half the budget to arrive before the session is deleted under them.
  const auto started = std::chrono::steady_clock::now();
  m_after_sending = [this, budget_ms, started, done = std::move(done)]() mutable {
    auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count();
    end_session(std::max<long>(budget_ms - static_cast<long>(spent), budget_ms / 4),
                std::move(done));
  };
  m_get_timer.expires_after(std::chrono::milliseconds(budget_ms / 2));
  m_get_timer.async_wait([this](const std::error_code& ec) {
    if (ec || !m_after_sending) return;
    CLARIBI_LOG(debug, m_sending << " message(s) to the remote still unconfirmed at exit");
    auto next = std::move(m_after_sending);
    m_after_sending = nullptr;
    next();
  });
}

void Remote::sent_one() {
  if (--m_sending > 0 || !m_after_sending) return;
  m_get_timer.cancel();
  auto next = std::move(m_after_sending);
  m_after_sending = nullptr;
  asio::post(m_io, std::move(next));
}

void Remote::end_session(long budget_ms, std::function<void()> done) {
  if (m_mode != Mode::streamable || m_session_id.empty()) {
    asio::post(m_io, std::move(done));
    return;
  }
  auto req = make_request("DELETE", m_options.url.text);
  req.headers = request_headers(false, "*/*", true);
  req.timeout_ms = budget_ms;
  req.connect_timeout_ms = std::min(budget_ms, m_options.connect_timeout_ms);
  HttpHandlers h;
  h.on_done = [done = std::move(done)](HttpDone&& d) {
    if (!d.ok) CLARIBI_LOG(debug, "DELETE of the session failed: " << d.error);
    done();
  };
  m_http.start(std::move(req), std::move(h));
}

}  // namespace claribi::transport
