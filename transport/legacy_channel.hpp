#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <memory>
#include <string>

#include "transport/event_stream.hpp"
#include "transport/http_transport.hpp"
#include "transport/remote_session.hpp"
#include "transport/request_factory.hpp"

namespace claribi::transport {

/// What the HTTP+SSE channel asks of the side that sends messages (the Remote).
class LegacyLink {
 public:
  virtual bool closing() const = 0;
  /// The data of one `message` event of `stream`.
  virtual void deliver_event(std::string data, const std::shared_ptr<Stream>& stream) = 0;
  /// The channel closed: every client request still owed an answer fails with `why`.
  virtual void fail_unanswered(const std::string& why) = 0;

 protected:
  ~LegacyLink() = default;
};

/// The HTTP+SSE transport of 2024-11-05: one GET event stream that is the session, whose
/// `endpoint` event names where messages are POSTed (same origin only) and which carries
/// every answer. When it closes, what it owed is lost and a new session is opened after a
/// back-off.
class LegacyChannel {
 public:
  /// `requests`, `session` and `link` must outlive the channel.
  LegacyChannel(asio::io_context& io, HttpTransport& http, const RequestFactory& requests,
                Session& session, LegacyLink& link);

  /// Opens the event stream (dropping the one before, if any); the session is told when
  /// the endpoint is known, or when the stream ends without one.
  void open();

  /// Where messages go; empty until the endpoint event.
  const std::string& endpoint() const { return m_endpoint; }

  /// The end: no stream opens again.
  void close();

 private:
  void on_event(const std::shared_ptr<Stream>& s, SseEvent&& ev);
  void ended(const std::shared_ptr<Stream>& s, const HttpHead& head, const HttpDone& done);

  HttpTransport& m_http;
  const RequestFactory& m_requests;
  Session& m_session;
  LegacyLink& m_link;

  std::shared_ptr<Stream> m_stream;
  std::string m_endpoint;
  asio::steady_timer m_timer;  ///< opens a new session after the stream closed
};

}  // namespace claribi::transport
