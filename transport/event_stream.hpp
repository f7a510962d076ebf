#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <string>

#include "transport/http_transport.hpp"
#include "transport/outgoing.hpp"
#include "transport/remote_session.hpp"
#include "transport/request_factory.hpp"

namespace claribi::transport {

/// Where one event stream stands: what opening it again needs, and what it said that was not
/// JSON-RPC (for the error when its request goes unanswered).
struct Stream {
  std::string request_id;  ///< the request whose response this stream carries, if any
  std::string last_event_id;
  long retry_ms = -1;  ///< the server's `retry`, once it sent one
  int failures = 0;    ///< attempts in a row that got no stream (the GET stream's back-off)
  int invalid_events = 0;
  std::string last_invalid;
  HttpTransport::TransferId transfer = 0;
};

/// The wait before opening a stream again after `failures` failures in a row: 0.5 s,
/// doubling, at most 30 s.
long reconnect_delay_ms(int failures);

/// What the event streams ask of the side that sends messages (the Remote).
class StreamLink {
 public:
  virtual bool closing() const = 0;
  /// The remote speaks streamable HTTP (the GET stream is that transport's).
  virtual bool streamable() const = 0;
  /// The data of one `message` event of `stream`.
  virtual void deliver_event(std::string data, const std::shared_ptr<Stream>& stream) = 0;
  virtual void fail(const std::shared_ptr<Outgoing>& o, std::string message, long status) = 0;

 protected:
  ~StreamLink() = default;
};

/// The event streams of a streamable HTTP session: following a response stream, resuming
/// one cut before its answer (a GET with Last-Event-ID, after the server's `retry`), and the
/// GET stream for server-initiated messages, reopened with back-off while the session lives
/// and again on each new session. Both GETs are made and read the same way.
class EventStreams {
 public:
  /// `requests`, `session` and `link` must outlive the streams.
  EventStreams(asio::io_context& io, HttpTransport& http, const RequestFactory& requests,
               Session& session, StreamLink& link);

  /// Sets `handlers` to follow `stream`: its position and `retry`, its messages delivered.
  void follow(const std::shared_ptr<Stream>& stream, HttpHandlers& handlers);

  /// The response stream of request `o` ended before its answer: opens it again from its
  /// last event after the server's `retry` or a back-off (false when it cannot: no event
  /// id, or five resumptions already). On a new session by then, `o` is the session's to
  /// send again (or fails, when it must not run twice).
  bool resume(const std::shared_ptr<Outgoing>& o, const std::shared_ptr<Stream>& stream);

  /// Opens the GET stream for server-initiated messages (unless the remote has none).
  /// `opened` runs once: when the stream's head arrives or it ends, when there is none to
  /// open, or after a second at most.
  void open_general(std::function<void()> opened = {});

  /// The session is gone: so are its GET stream and its position.
  void drop();

  /// The end: no stream opens again.
  void close();

 private:
  /// Starts a GET of `stream` from its last event; `on_done` gets the head and the end.
  HttpTransport::TransferId open(const std::shared_ptr<Stream>& stream,
                                 std::function<void(const HttpHead&, HttpDone&&)> on_done,
                                 std::function<void()> on_head = {});
  void resume_later(const std::shared_ptr<Outgoing>& o, const std::shared_ptr<Stream>& stream);
  void general_ended(const std::shared_ptr<Stream>& s, int generation, const HttpHead& head,
                     const HttpDone& done);
  void resumed_ended(const std::shared_ptr<Outgoing>& o, const std::shared_ptr<Stream>& stream,
                     const HttpHead& head, const HttpDone& done);

  asio::io_context& m_io;
  HttpTransport& m_http;
  const RequestFactory& m_requests;
  Session& m_session;
  StreamLink& m_link;

  std::shared_ptr<Stream> m_general;   ///< the GET stream
  bool m_general_unsupported = false;  ///< the remote answered the GET with 405
  asio::steady_timer m_timer;          ///< reopens the GET stream
  std::function<void()> m_opened;      ///< open_general's `opened`, until it runs
  asio::steady_timer m_opened_limit;   ///< runs it anyway after a second
  void run_opened();
};

}  // namespace claribi::transport
