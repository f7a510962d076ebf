#include "transport/event_stream.hpp"

#include "transport/session.hpp"
#include "util/log.hpp"

#include <algorithm>
#include <chrono>

namespace claribi::transport {
namespace {

constexpr int k_max_resumes = 5;
constexpr long k_default_reconnect_ms = 500;
constexpr long k_max_backoff_ms = 30000;

}  // namespace

long reconnect_delay_ms(int failures) {
  long ms = k_default_reconnect_ms << std::min(failures, 6);
  return std::min(ms, k_max_backoff_ms);
}

EventStreams::EventStreams(asio::io_context& io, HttpTransport& http,
                           const RequestFactory& requests, Session& session, StreamLink& link)
    : m_io(io),
      m_http(http),
      m_requests(requests),
      m_session(session),
      m_link(link),
      m_timer(io),
      m_opened_limit(io) {}

void EventStreams::follow(const std::shared_ptr<Stream>& stream, HttpHandlers& handlers) {
  handlers.on_event = [this, stream](SseEvent&& ev) {
    stream->last_event_id = ev.id;
    stream->failures = 0;
    if (ev.type == "message") m_link.deliver_event(std::move(ev.data), stream);
  };
  handlers.on_retry = [stream](long ms) { stream->retry_ms = ms; };
}

HttpTransport::TransferId EventStreams::open(
    const std::shared_ptr<Stream>& stream, std::function<void(const HttpHead&, HttpDone&&)> on_done,
    std::function<void()> on_head) {
  auto req = m_requests.make("GET", m_requests.options().url.text, "text/event-stream", false);
  m_session.add_headers(req.headers);
  if (!stream->last_event_id.empty()) {
    req.headers.push_back("Last-Event-ID: " + stream->last_event_id);
  }
  auto head = std::make_shared<HttpHead>();
  HttpHandlers h;
  h.on_head = [head, on_head = std::move(on_head)](const HttpHead& got) {
    *head = got;
    if (on_head) on_head();
  };
  follow(stream, h);
  h.on_done = [head, on_done = std::move(on_done)](HttpDone&& done) {
    on_done(*head, std::move(done));
  };
  return m_http.start(std::move(req), std::move(h));
}

bool EventStreams::resume(const std::shared_ptr<Outgoing>& o,
                          const std::shared_ptr<Stream>& stream) {
  if (stream->last_event_id.empty() || o->resumes >= k_max_resumes) return false;
  resume_later(o, stream);
  return true;
}

void EventStreams::resume_later(const std::shared_ptr<Outgoing>& o,
                                const std::shared_ptr<Stream>& stream) {
  ++o->resumes;
  long delay = stream->retry_ms >= 0 ? stream->retry_ms : reconnect_delay_ms(o->resumes - 1);
  CLARIBI_LOG(info, "event stream for request " << o->id << " ended before its answer; resuming in "
                                                << delay << " ms from event "
                                                << stream->last_event_id);
  auto timer = std::make_shared<asio::steady_timer>(m_io, std::chrono::milliseconds(delay));
  timer->async_wait([this, o, stream, timer](const std::error_code& ec) {
    if (ec || m_link.closing() || o->answered) return;
    if (o->generation != m_session.generation() || m_session.reopening()) {
      // The session the stream belonged to is gone (the remote restarted): its events cannot
      // be replayed, and a GET on the new session would only open its general stream.
      if (o->at_most_once) {
        m_link.fail(o,
                    "the remote lost the session while answering: the call may or may not have "
                    "run on the server. Check its effect before repeating it.",
                    0);
      } else {
        m_session.lost(o);
      }
      return;
    }
    o->transfer = open(stream, [this, o, stream](const HttpHead& head, HttpDone&& done) {
      resumed_ended(o, stream, head, done);
    });
  });
}

void EventStreams::resumed_ended(const std::shared_ptr<Outgoing>& o,
                                 const std::shared_ptr<Stream>& stream, const HttpHead& head,
                                 const HttpDone& done) {
  if (m_link.closing() || o->answered) return;
  if (o->sent_with_session && says_session_lost(head.status, done.body)) {
    if (o->at_most_once) {
      // The POST reached the server (its stream had begun): a new session must not run the
      // call a second time.
      m_link.fail(o,
                  "the remote lost the session while answering: the call may or may not have "
                  "run on the server. Check its effect before repeating it.",
                  head.status);
      return;
    }
    m_session.lost(o);
    return;
  }
  if (head.status / 100 == 2 && head.is_event_stream() && o->resumes < k_max_resumes) {
    resume_later(o, stream);
    return;
  }
  std::string why = done.ok ? "HTTP " + std::to_string(head.status) : done.error;
  m_link.fail(o, "the event stream was cut before the answer and resuming it failed (" + why + ")",
              head.status);
}

void EventStreams::open_general(std::function<void()> opened) {
  if (opened) {
    // The first calls after the handshake wait for this: a server may send what they cause
    // (an elicitation, say) on this stream, and would find none yet.
    m_opened = std::move(opened);
    m_opened_limit.expires_after(std::chrono::seconds(1));
    m_opened_limit.async_wait([this](const std::error_code& ec) {
      if (!ec) run_opened();
    });
  }
  if (m_link.closing() || m_general_unsupported || !m_link.streamable()) {
    run_opened();
    return;
  }
  if (!m_general) m_general = std::make_shared<Stream>();
  auto s = m_general;
  auto generation = m_session.generation();
  s->transfer = open(
      s,
      [this, s, generation](const HttpHead& head, HttpDone&& done) {
        run_opened();
        general_ended(s, generation, head, done);
      },
      [this] { run_opened(); });
}

void EventStreams::run_opened() {
  m_opened_limit.cancel();
  auto opened = std::move(m_opened);
  m_opened = nullptr;
  if (opened) opened();
}

void EventStreams::general_ended(const std::shared_ptr<Stream>& s, int generation,
                                 const HttpHead& head, const HttpDone& done) {
  if (m_link.closing() || m_general != s || generation != m_session.generation()) return;
  if (head.status == 405) {
    m_general_unsupported = true;
    CLARIBI_LOG(info, "the remote offers no stream for server-initiated messages (GET 405)");
    return;
  }
  if (m_session.has_id() && says_session_lost(head.status, done.body)) {
    if (!m_session.reopening()) m_session.reopen();
    return;
  }
  if (head.status / 100 != 2 || !head.is_event_stream()) ++s->failures;
  long delay = s->retry_ms >= 0 && s->failures == 0 ? s->retry_ms : reconnect_delay_ms(s->failures);
  CLARIBI_LOG(debug, "GET stream ended ("
                         << (done.ok ? "HTTP " + std::to_string(head.status) : done.error)
                         << "); reconnecting in " << delay << " ms");
  m_timer.expires_after(std::chrono::milliseconds(delay));
  m_timer.async_wait([this](const std::error_code& ec) {
    if (ec || m_link.closing()) return;
    open_general();
  });
}

void EventStreams::drop() {
  run_opened();
  if (!m_general) return;
  m_http.cancel(m_general->transfer);
  m_timer.cancel();
  m_general.reset();
}

void EventStreams::close() {
  m_opened_limit.cancel();
  m_opened = nullptr;
  m_timer.cancel();
  if (m_general) m_http.cancel(m_general->transfer);
}

}  // namespace claribi::transport
