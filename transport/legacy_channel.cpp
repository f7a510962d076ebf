#include "transport/legacy_channel.hpp"

#include "util/log.hpp"

#include <chrono>

namespace claribi::transport {

LegacyChannel::LegacyChannel(asio::io_context& io, HttpTransport& http,
                             const RequestFactory& requests, Session& session, LegacyLink& link)
    : m_http(http), m_requests(requests), m_session(session), m_link(link), m_timer(io) {}

void LegacyChannel::open() {
  if (m_stream) {
    m_http.cancel(m_stream->transfer);
    m_timer.cancel();
  }
  m_endpoint.clear();
  auto s = std::make_shared<Stream>();
  m_stream = s;
  auto req = m_requests.make("GET", m_requests.options().url.text, "text/event-stream", false);
  auto head = std::make_shared<HttpHead>();
  HttpHandlers h;
  h.on_head = [head](const HttpHead& got) { *head = got; };
  h.on_event = [this, s](SseEvent&& ev) { on_event(s, std::move(ev)); };
  h.on_done = [this, s, head](HttpDone&& done) { ended(s, *head, done); };
  s->transfer = m_http.start(std::move(req), std::move(h));
}

void LegacyChannel::on_event(const std::shared_ptr<Stream>& s, SseEvent&& ev) {
  s->last_event_id = ev.id;
  if (ev.type == "message") {
    m_link.deliver_event(std::move(ev.data), s);
    return;
  }
  if (ev.type != "endpoint") return;
  const auto& url = m_requests.options().url;
  auto endpoint = resolve_url(url, ev.data);
  if (!endpoint) {
    CLARIBI_LOG(error, "the remote's SSE endpoint event is unusable: " << endpoint.error().message);
    return;
  }
  if (endpoint->scheme != url.scheme || endpoint->host != url.host || endpoint->port != url.port) {
    CLARIBI_LOG(error, "the remote's SSE endpoint " << display_url(*endpoint)
                                                    << " is on another origin; refusing it");
    return;
  }
  m_endpoint = endpoint->text;
  s->failures = 0;
  m_session.channel_ready();
}

void LegacyChannel::ended(const std::shared_ptr<Stream>& s, const HttpHead& head,
                          const HttpDone& done) {
  if (m_link.closing() || m_stream != s) return;
  bool had_endpoint = !m_endpoint.empty();
  m_endpoint.clear();
  std::string why = done.ok ? "HTTP " + std::to_string(head.status) : done.error;
  if (!had_endpoint) {
    m_session.channel_failed("the remote answered neither streamable HTTP nor HTTP+SSE (GET " +
                                 display_url(m_requests.options().url) + ": " + why + ")",
                             head.status);
    return;
  }
  // The legacy session lives as long as this stream: answers still owed are lost.
  m_link.fail_unanswered("the remote's SSE stream closed before answering (" + why + ")");
  ++s->failures;
  m_timer.expires_after(std::chrono::milliseconds(reconnect_delay_ms(s->failures)));
  m_timer.async_wait([this](const std::error_code& ec) {
    if (ec || m_link.closing()) return;
    m_session.reopen();
  });
}

void LegacyChannel::close() {
  m_timer.cancel();
  if (m_stream) m_http.cancel(m_stream->transfer);
}

}  // namespace claribi::transport
