#include "transport/remote.hpp"

#include "transport/modern.hpp"
#include "transport/session.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>

namespace claribi::transport {
namespace {

/// Sends again of a request whose connection failed before any answer: 50, 100, 200 ms.
constexpr int k_max_net_retries = 3;
constexpr long k_net_retry_ms = 50;
constexpr std::string_view k_accept_both = "application/json, text/event-stream";

std::string snippet(std::string_view body) {
  std::string s(body.substr(0, 300));
  jsonrpc::flatten(s);
  return log::redact(s);
}

}  // namespace

Remote::Remote(asio::io_context& io, HttpTransport& http, RemoteOptions options,
               RemoteEvents events)
    : m_io(io),
      m_http(http),
      m_options(std::move(options)),
      m_events(std::move(events)),
      m_requests(m_options),
      m_auth(m_events.on_auth_required),
      m_session(io, http, m_requests, *this),
      m_streams(io, http, m_requests, m_session, *this),
      m_legacy(io, http, m_requests, m_session, *this),
      m_unconfirmed(io),
      m_keep_alive(
          io, m_options.ping_interval_ms, [this] { return may_ping(); }, [this] { ping(); }) {
  if (m_options.transport == TransportKind::streamable_http) m_mode = Mode::streamable;
}

Remote::~Remote() = default;

void Remote::set_authorization(const std::string& value) {
  m_probe_challenge.reset();  // credentials exist now: that refusal is spent
  m_requests.set_authorization(value);
}

void Remote::auth_finished(Result<std::string> authorization) {
  if (!m_auth.active()) return;
  auto waiting = m_auth.end();
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
  if (!m_auth.active()) return back;
  auto waiting = m_auth.end();
  set_authorization(authorization);
  for (auto& o : waiting) {
    if (o->internal) {
      post(o);
      continue;
    }
    if (o->upload) {  // its body exists only as this transfer's; the client sends it again
      fail(o, "the remote speaks another MCP revision than assumed; send the call again", 0);
      continue;
    }
    if (o->kind == jsonrpc::Kind::request) {
      if (o->answered) continue;
      o->answered = true;
      if (auto it = m_in_flight.find(o->id); it != m_in_flight.end() && it->second == o) {
        m_in_flight.erase(it);
      }
    }
    back.push_back(o->raw.str());
  }
  return back;
}

bool Remote::retry_unanswered(const std::shared_ptr<Outgoing>& o, const HttpDone& done) {
  if (done.maybe_delivered) {
    fail(o,
         "the connection to " + display_url(m_options.url) +
             " broke after the request went out and before any answer (" + done.error +
             "): the call may or may not have run on the server. Check its effect (list or "
             "get what it would have changed) before repeating it.",
         0);
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
    if (!extras.stateless_version.empty()) {
      o->modern = true;
      o->version = std::move(extras.stateless_version);
      o->headers = modern::request_headers(o->version, message.method, message.doc);
      o->derived_headers = o->headers.size();
    }
  }
  for (auto& h : extras.headers) o->headers.push_back(std::move(h));
  o->may_log_in = extras.may_log_in;
  o->at_most_once = extras.at_most_once;
  o->method = std::move(message.method);
  o->id = std::move(message.id);
  o->raw = std::move(message.raw);
  if (o->kind == jsonrpc::Kind::request && o->method == "initialize") {
    m_session.remember_initialize(o->raw.str());
  } else if (o->method == "notifications/initialized") {
    m_session.send_initialized(std::move(o));
    return;
  }
  post(std::move(o));
}

void Remote::abandon(const std::string& id) {
  auto it = m_in_flight.find(id);
  if (it == m_in_flight.end()) return;
  auto o = it->second;
  m_in_flight.erase(it);
  if (!o->wire_id.empty()) m_renamed.erase(o->wire_id);
  o->answered = true;
  if (o->transfer != 0) m_http.cancel(o->transfer);
  if (o->method == "initialize" && !o->internal) m_session.initialize_ended();
}

void Remote::post(std::shared_ptr<Outgoing> o) {
  if (m_closing) return;
  if (!o->internal && m_session.hold_if_not_ready(o)) return;
  if (m_auth.active() && !o->during_auth) {
    // A login or refresh is under way: this would only be refused too.
    if (o->kind == jsonrpc::Kind::request) (o->internal ? m_internal : m_in_flight)[o->id] = o;
    m_auth.hold(std::move(o));
    return;
  }
  o->sent_authorization = m_requests.authorization();
  if (o->kind == jsonrpc::Kind::request) {
    (o->internal ? m_internal : m_in_flight)[o->id] = o;
  }
  m_keep_alive.sent();
  if (m_mode == Mode::legacy) {
    post_legacy(std::move(o));
  } else {
    post_streamable(std::move(o));
  }
}

void Remote::post_streamable(std::shared_ptr<Outgoing> o) {
  auto req = make_post(m_options.url.text, *o);
  const bool with_session = o->method != "initialize" && !o->modern;
  if (with_session) m_session.add_headers(req.headers);
  req.headers.insert(req.headers.end(), o->headers.begin(), o->headers.end());
  o->sent_with_session = with_session && m_session.has_id();

  auto stream = std::make_shared<Stream>();
  if (o->kind == jsonrpc::Kind::request) stream->request_id = o->id;
  auto head = std::make_shared<HttpHead>();
  HttpHandlers h;
  h.on_head = [this, o, head](const HttpHead& got) {
    *head = got;
    if (o->method == "initialize" && got.status / 100 == 2) m_session.take_id(*o, got);
  };
  m_streams.follow(stream, h);
  h.on_upload_progress = o->on_upload_progress;
  if (o->kind != jsonrpc::Kind::request) m_unconfirmed.sent();
  std::uint64_t initialize_send = 0;
  if (o->method == "initialize" && !o->internal && !o->modern) {
    initialize_send = m_session.initialize_sent();
  }
  h.on_done = [this, o, head, stream, initialize_send](HttpDone&& done) {
    if (o->kind != jsonrpc::Kind::request) m_unconfirmed.ended();
    finish_post(o, *head, std::move(done), stream);
    // Answered, failed, held for a login, or dropped for the other era: nothing more waits
    // for this sending of it.
    if (initialize_send != 0) m_session.initialize_ended(initialize_send);
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
  if (!done.ok && (status == 0 || done.maybe_delivered) && retry_unanswered(o, done)) return;
  if (!done.ok && status == 0) {
    auto why = "cannot reach " + display_url(m_options.url) + ": " + done.error +
               ". Check the URL, the network and proxy settings (or --ca-file for TLS "
               "errors); the next request tries again.";
    if (o->on_refused && !o->answered) {
      finish_refused(o, 0, {}, why);
      return;
    }
    fail(o, why, 0);
    return;
  }
  if (done.too_large) {
    fail(o,
         "the remote's answer is larger than the limit of " +
             std::to_string(m_options.max_message_bytes >> 20) + " MiB (--max-message-mb)",
         status);
    return;
  }
  if (!done.ok && !head.is_event_stream() && status / 100 == 2) {
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
    m_session.lost(o);
    return;
  }
  if (!o->bad_session_id.empty()) {
    fail(o,
         "the remote is broken: its Mcp-Session-Id is " + o->bad_session_id +
             "; the bridge will not send it back",
         status);
    return;
  }
  const bool not_understood = status == 400 || status == 404 || status == 405;
  const bool clients_initialize = o->method == "initialize" && !o->internal;
  if (clients_initialize && m_probe_challenge && not_understood) {
    // The era probe was refused for want of credentials and the client's initialize is not
    // understood: a 2026-07-28 remote that wants credentials. The client's request was
    // refused, so now is the time to log in; the era is learnt again after.
    auto challenge = std::move(*m_probe_challenge);
    m_probe_challenge.reset();
    if (m_auth.refused(o, challenge)) return;
  }
  // A 2025 initialize refused as only a 2026-07-28 server refuses it (the era remembered
  // for the remote was stale) is an answer for the era negotiator, not a 2024-11-05 remote.
  if (clients_initialize && m_mode == Mode::unknown &&
      m_options.transport == TransportKind::auto_detect && not_understood &&
      !body_refuses_as_modern(done.body)) {
    switch_to_legacy(o);
    return;
  }
  if (status / 100 == 2) {
    finish_accepted(o, head, std::move(done), stream);
  } else {
    finish_error(o, head, std::move(done));
  }
}

void Remote::finish_accepted(const std::shared_ptr<Outgoing>& o, const HttpHead& head,
                             HttpDone&& done, const std::shared_ptr<Stream>& stream) {
  const long status = head.status;
  const bool is_request = o->kind == jsonrpc::Kind::request;
  if (o->method == "notifications/initialized" && m_mode == Mode::streamable) {
    // What the client sends next waits for the GET stream's head too (a second at most).
    m_streams.open_general(o->on_accepted);
  } else if (!is_request && o->on_accepted) {
    o->on_accepted();
  }
  if (head.is_event_stream()) {
    if (!is_request || o->answered) return;
    if (o->modern) {  // the stateless revision: nothing to resume
      stateless_stream_cut(o, done, status, *stream);
      return;
    }
    if (m_streams.resume(o, stream)) return;
    std::string why = "the remote closed the event stream before answering";
    if (!done.ok) why += " (" + done.error + ")";
    if (stream->invalid_events > 0) {
      why += "; it sent " + std::to_string(stream->invalid_events) +
             " event(s) that are not JSON-RPC: " + stream->last_invalid;
    }
    fail(o, why, status);
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
    if (resend_fixed(o, done.body)) return;
    deliver_text(std::move(done.body), o, nullptr);
    if (is_request && !o->answered) {
      fail(o, "the remote's JSON answer holds no response to this request", status);
    }
    return;
  }
  fail(o,
       "the remote answered with Content-Type '" + head.content_type +
           "'; expected application/json or text/event-stream",
       status, done.body);
}

void Remote::finish_error(const std::shared_ptr<Outgoing>& o, const HttpHead& head,
                          HttpDone&& done) {
  const long status = head.status;
  if ((status == 401 || status == 403) && m_auth.refused(o, head)) return;
  if (o->method == "server/discover" && (status == 401 || status == 403)) {
    m_probe_challenge = head;
  }
  if (o->on_refused && !o->answered) {
    finish_refused(o, status, done.body, "HTTP " + std::to_string(status));
    return;
  }
  // An error status. The remote may still have explained itself as a JSON-RPC error.
  if (o->kind == jsonrpc::Kind::request && head.content_type == "application/json" &&
      !done.body.empty()) {
    if (resend_fixed(o, done.body)) return;
    auto parsed = jsonrpc::parse_body(done.body);
    if (parsed && parsed->size() == 1 && parsed->front().kind == jsonrpc::Kind::response &&
        parsed->front().id == o->wire()) {
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
       done.body);
}

void Remote::finish_refused(const std::shared_ptr<Outgoing>& o, long status,
                            const std::string& body, const std::string& why) {
  o->answered = true;
  if (auto it = m_internal.find(o->id); it != m_internal.end() && it->second == o) {
    m_internal.erase(it);
  }
  o->on_refused(status, body, why);
}

HttpRequest Remote::make_post(const std::string& url, Outgoing& o) {
  auto req = m_requests.make("POST", url, k_accept_both, true);
  if (o.upload) {
    req.upload = o.upload;
  } else {
    req.body = o.raw;
  }
  req.at_most_once = o.at_most_once;
  o.generation = m_session.generation();
  return req;
}

void Remote::fail(const std::shared_ptr<Outgoing>& o, std::string message, long status) {
  fail(o, std::move(message), status, {});
}

void Remote::fail(const std::shared_ptr<Outgoing>& o, std::string message, long status,
                  std::string_view body) {
  if (o->kind != jsonrpc::Kind::request) {
    CLARIBI_LOG(warn, "could not deliver " << (o->method.empty() ? "a response" : o->method)
                                           << " to the remote: " << message);
    m_session.notification_failed(*o, message);
    return;
  }
  if (o->answered) return;
  o->answered = true;
  if (o->method == "initialize" && !o->internal) m_session.initialize_ended();
  if (!o->wire_id.empty()) m_renamed.erase(o->wire_id);
  auto& table = o->internal ? m_internal : m_in_flight;
  if (auto it = table.find(o->id); it != table.end() && it->second == o) table.erase(it);
  if (o->on_answer) {
    o->on_answer(claribi::fail(message));
    return;
  }
  std::string data = "{\"url\":" + json::quote(display_url(m_options.url));
  if (status != 0) data += ",\"httpStatus\":" + std::to_string(status);
  if (!body.empty()) data += ",\"body\":" + json::quote(snippet(body));
  data += "}";
  CLARIBI_LOG(warn, "request " << o->id << " (" << o->method << ") failed: " << message);
  m_events.on_request_failed(o->id, RequestFailure{jsonrpc::code::remote_failed,
                                                   "claribi-bridge: " + message, data, status});
}

void Remote::fail_unanswered(const std::string& why) {
  auto owed = m_in_flight;
  for (auto& [id, o] : owed) fail(o, why, 0);
}

void Remote::deliver_event(std::string data, const std::shared_ptr<Stream>& stream) {
  deliver_text(std::move(data), nullptr, stream);
}

void Remote::deliver_text(std::string text, const std::shared_ptr<Outgoing>& origin,
                          const std::shared_ptr<Stream>& stream) {
  // An event with an id and empty data only primes resumption (2025-11-25); no message.
  if (!origin && text.find_first_not_of(" \t\r\n") == std::string::npos) return;
  auto parsed = jsonrpc::parse_body(std::move(text), /*trim=*/true);
  if (!parsed) {
    std::string why =
        "the remote sent something that is not a JSON-RPC message (" + parsed.error().message + ")";
    if (origin) {
      fail(origin, why, 0);
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
    if (!m_renamed.empty()) restore_client_id(m);
    if (auto it = m_internal.find(m.id); it != m_internal.end()) {
      auto o = it->second;
      m_internal.erase(it);
      o->answered = true;
      jsonrpc::make_whole(m);
      if (o->on_answer) o->on_answer(std::move(m));
      return;
    }
    if (auto it = m_in_flight.find(m.id); it != m_in_flight.end()) {
      auto o = it->second;
      m_in_flight.erase(it);
      o->answered = true;
      if (o->method == "initialize") {
        jsonrpc::make_whole(m);
        m_session.capture_initialize_result(m);
        m_session.initialize_ended();
      }
    }
  }
  m_events.on_message(std::move(m), related);
}

std::string Remote::internal_id(std::string_view purpose) {
  return "claribi-bridge-" + std::string(purpose) + "-" + std::to_string(++m_internal_counter);
}

bool Remote::reopen_channel() {
  m_streams.drop();
  if (m_mode != Mode::legacy) return true;
  m_legacy.open();  // its endpoint event sends the replayed initialize
  return false;
}

void Remote::initialized() {
  if (m_mode == Mode::unknown) m_mode = Mode::streamable;
}

void Remote::discover(std::string meta_json, std::function<void(Result<Discovery>)> done,
                      bool during_auth) {
  probe_era(*this, display_url(m_options.url), std::move(meta_json), during_auth,
            [this, done = std::move(done)](Result<Discovery> d) {
              if (d && d->modern) m_mode = Mode::modern;
              done(std::move(d));
            });
}

bool Remote::may_ping() const {
  const bool only_ping =
      m_internal.empty() || (m_internal.size() == 1 && m_ping && m_internal.count(m_ping->id) == 1);
  return !m_closing && (m_mode == Mode::streamable || m_mode == Mode::legacy) &&
         m_session.settled() && m_in_flight.empty() && only_ping && !m_auth.active();
}

void Remote::ping() {
  if (m_ping && !m_ping->answered) {
    CLARIBI_LOG(debug, "the remote did not answer the last ping; sending another");
    m_ping->answered = true;
    m_internal.erase(m_ping->id);
    if (m_ping->transfer != 0) m_http.cancel(m_ping->transfer);
  }
  m_ping = make_ping(json::quote(internal_id("ping")));
  CLARIBI_LOG(debug, "the session is idle: ping " << m_ping->id);
  post(m_ping);
}

void Remote::shutdown(long budget_ms, std::function<void()> done) {
  m_closing = true;
  m_keep_alive.stop();
  m_streams.close();
  m_legacy.close();
  m_session.close();
  for (auto& [id, o] : m_in_flight) m_http.cancel(o->transfer);
  for (auto& [id, o] : m_internal) m_http.cancel(o->transfer);
  m_unconfirmed.then(budget_ms, [this, done = std::move(done)](long budget_left_ms) {
    end_session(budget_left_ms, done);
  });
}

void Remote::end_session(long budget_ms, std::function<void()> done) {
  if (m_mode != Mode::streamable) {
    asio::post(m_io, std::move(done));
    return;
  }
  m_session.end(budget_ms, std::move(done));
}

}  // namespace claribi::transport
