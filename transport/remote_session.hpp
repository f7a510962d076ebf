#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "transport/http_transport.hpp"
#include "transport/outgoing.hpp"
#include "transport/request_factory.hpp"
#include "util/jsonrpc.hpp"

namespace claribi::transport {

/// What the session asks of the side that sends messages (the Remote).
class SessionLink {
 public:
  virtual bool closing() const = 0;
  /// Sends `o` (the session's own messages, and the ones it held).
  virtual void post(std::shared_ptr<Outgoing> o) = 0;
  virtual void fail(const std::shared_ptr<Outgoing>& o, std::string message, long status) = 0;
  /// A new id for the bridge's own request, "claribi-bridge-<purpose>-N" (text, unquoted).
  virtual std::string internal_id(std::string_view purpose) = 0;
  /// Drops the lost session's streams and opens the channel for a new one: true when the
  /// replayed initialize may go at once, false when the channel first calls `channel_ready`
  /// (HTTP+SSE: its endpoint event).
  virtual bool reopen_channel() = 0;
  /// An initialize was answered: the remote speaks streamable HTTP, if that was not known.
  virtual void initialized() = 0;

 protected:
  ~SessionLink() = default;
};

/// The client's session with the remote: its id and protocol version on every request; the
/// client's handshake, whose notifications/initialized later messages wait for (over HTTP a
/// request can overtake it); a new session when the remote loses this one (the client's
/// initialize and initialized replayed, then what waited sent again); DELETE at the end.
/// Messages wait here while the session is not ready for them.
class Session {
 public:
  /// `requests` and `link` must outlive the session.
  Session(asio::io_context& io, HttpTransport& http, const RequestFactory& requests,
          SessionLink& link);

  /// Mcp-Session-Id and MCP-Protocol-Version, as far as known.
  void add_headers(std::vector<std::string>& headers) const;
  bool has_id() const { return !m_id.empty(); }
  /// Bumped by every new session: what went out before belongs to a lost one.
  int generation() const { return m_generation; }
  /// A new session is being opened: only its own messages go out.
  bool reopening() const { return m_reopening; }
  /// An initialize was answered, and nothing waits for the session: a quiet session.
  bool settled() const { return m_initialized && !m_reopening && !m_gate_closed && m_held.empty(); }

  /// The client's initialize, replayed on every new session.
  void remember_initialize(std::string raw) { m_initialize_raw = std::move(raw); }
  /// Takes the Mcp-Session-Id of a 2xx to an initialize, or notes on `initialize` why it
  /// cannot be used (it is then never sent back).
  void take_id(Outgoing& initialize, const HttpHead& head);
  /// An answer to initialize: its protocol version goes on every later request.
  void capture_initialize_result(const jsonrpc::Message& answer);
  /// Sends the client's notifications/initialized; later messages wait until the remote
  /// has taken it, or 5 s.
  void send_initialized(std::shared_ptr<Outgoing> o);

  /// The client's initialize went out (streamable HTTP): what the client sends next in the
  /// 2025 form waits for its answer, which brings the session id and protocol version.
  /// Returns which sending this is.
  std::uint64_t initialize_sent() {
    m_initialize_pending = true;
    return ++m_initialize_sends;
  }
  /// That initialize was answered, failed or was dropped (`send`: only if it was not sent
  /// again since): what waited for it goes on.
  void initialize_ended(std::uint64_t send = 0);
  /// Holds `o` (true) while the session is not ready for it: a new session is being opened,
  /// the client's initialize is unanswered, or its notifications/initialized is on its way.
  bool hold_if_not_ready(const std::shared_ptr<Outgoing>& o);
  /// Holds `o` until the channel is ready (HTTP+SSE: no endpoint yet).
  void hold(std::shared_ptr<Outgoing> o) { m_held.push_back(std::move(o)); }
  /// The channel is open (HTTP+SSE: its endpoint is known): the replayed initialize goes
  /// out when a new session is being opened, else what waited.
  void channel_ready();
  /// The channel could not be opened: what waited fails with `why`.
  void channel_failed(const std::string& why, long status);

  /// The remote no longer knows the session `o` went out with: `o` is sent again on a new
  /// session, once; a new session lost while being opened is opened again, three times.
  void lost(std::shared_ptr<Outgoing> o);
  /// Opens a new session now.
  void reopen();
  /// A notification `o` could not be delivered: the replay fails with it, or the client's
  /// notifications/initialized no longer holds the rest.
  void notification_failed(const Outgoing& o, const std::string& why);

  /// The end: nothing waits for notifications/initialized any more.
  void close() { m_gate_timer.cancel(); }
  /// Deletes the session on the remote (when it gave one) within `budget_ms`, then `done`.
  void end(long budget_ms, std::function<void()> done);

 private:
  void send_replayed_initialize();
  void reopen_failed(const std::string& why);
  void open_gate();
  void release_held();

  asio::io_context& m_io;
  HttpTransport& m_http;
  const RequestFactory& m_requests;
  SessionLink& m_link;

  std::string m_id;
  std::string m_protocol_version;
  std::string m_initialize_raw;   ///< the client's initialize, replayed on a new session
  std::string m_initialized_raw;  ///< the client's notifications/initialized
  int m_generation = 0;
  bool m_initialized = false;  ///< an initialize was answered
  bool m_reopening = false;
  int m_reopen_restarts = 0;          ///< new sessions lost while being opened, in a row
  bool m_gate_closed = false;         ///< the client's notifications/initialized is on its way
  bool m_initialize_pending = false;  ///< the client's initialize is out, unanswered
  std::uint64_t m_initialize_sends = 0;
  asio::steady_timer m_gate_timer;  ///< opens the gate if the remote never acknowledges
  std::deque<std::shared_ptr<Outgoing>> m_held;
};

}  // namespace claribi::transport
