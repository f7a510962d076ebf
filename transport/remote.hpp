#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "transport/http_transport.hpp"
#include "util/headers.hpp"
#include "util/jsonrpc.hpp"
#include "util/url.hpp"

namespace claribi::transport {

enum class TransportKind { auto_detect, streamable_http, sse };

struct RemoteOptions {
  Url url;
  std::vector<Header> headers;  ///< sent on every request (credentials included)
  TransportKind transport = TransportKind::auto_detect;
  std::size_t max_message_bytes = std::size_t{64} << 20;
  std::string ca_file;
  bool allow_http = false;
  long connect_timeout_ms = 10000;
};

/// A failure the client should see as the JSON-RPC error of one request.
struct RequestFailure {
  int code = jsonrpc::code::remote_failed;
  std::string message;
  std::string data_json;  ///< compact JSON object, or empty
  long http_status = 0;   ///< the remote's status, when it answered
};

/// What goes with one client message besides its text.
struct SendExtras {
  /// A tools/call whose body is made from a file while it is sent (the message's raw text
  /// is kept for logs and resending); `on_upload_progress` gets file bytes sent and size.
  std::shared_ptr<const UploadBody> upload;
  std::function<void(std::uint64_t, std::uint64_t)> on_upload_progress;
  /// More request headers ("Name: value"), e.g. Mcp-Param-* of a modern tools/call.
  std::vector<std::string> headers;
  /// A 401 may start the authorization round (false: it fails the request at once).
  bool may_log_in = true;
  /// The remote must act on it at most once (a tools/call that is not idempotent): never
  /// sent again once it may have arrived, and a failure then says it may or may not have run.
  /// Otherwise a request that never got an answer is sent again, a few times.
  bool at_most_once = false;
};

/// The outcome of `Remote::discover`.
struct Discovery {
  bool modern = false;
  jsonrpc::Message answer;  ///< the server/discover response, when modern
  /// The remote refused the probe for want of credentials (401/403): 2025 is only assumed,
  /// to be learnt again once there are credentials.
  bool assumed = false;
};

/// The remote refused a request for want of authorization: a 401, or a 403 whose
/// challenge says insufficient_scope.
struct AuthChallenge {
  long status = 0;
  std::string www_authenticate;
  std::string rejected_authorization;  ///< the Authorization value the request carried
};

struct RemoteEvents {
  /// Every message from the remote meant for the client, in arrival order, with the id of
  /// the request whose response stream carried it (empty when none did: the GET stream).
  std::function<void(jsonrpc::Message&&, const std::string& related)> on_message;
  /// The request with this id (compact JSON) cannot be answered by the remote.
  std::function<void(const std::string& id, RequestFailure&&)> on_request_failed;
  /// When set, a refused request waits (with every later one) until `auth_finished`, and is
  /// sent again with the new credentials; raised once per round, not per request.
  std::function<void(const AuthChallenge&)> on_auth_required;
};

/// The MCP client side of one remote server over streamable HTTP (2025-03-26, 2025-06-18,
/// 2025-11-25), with the HTTP+SSE transport of 2024-11-05 as fallback. It carries the
/// client's messages unchanged, keeps the session (Mcp-Session-Id, MCP-Protocol-Version),
/// re-initializes transparently when the remote forgets the session (404), resumes cut
/// event streams with Last-Event-ID, and keeps the GET stream for server-initiated
/// messages open. Requests that claim 2026-07-28 in their `_meta` go statelessly, with that
/// revision's headers; `discover` learns which era the remote speaks. All members must be
/// called on the io thread; events are raised there.
class Remote {
 public:
  Remote(asio::io_context& io, HttpTransport& http, RemoteOptions options, RemoteEvents events);
  ~Remote();
  Remote(const Remote&) = delete;
  Remote& operator=(const Remote&) = delete;

  /// Sends one client message (request, notification or response); its text is moved.
  /// A request whose `_meta` claims a stateless revision (2026-07-28) goes without session
  /// headers, with the headers that revision derives from the body (MCP-Protocol-Version,
  /// Mcp-Method, Mcp-Name) and `extras.headers`.
  void send(jsonrpc::Message&& message, SendExtras extras = {});

  /// Learns the remote's era with one `server/discover` (its `_meta` given as compact JSON,
  /// the protocol version included), following the 2026-07-28 backward-compatibility rules:
  /// a discover result naming 2026-07-28 means modern; an unsupported-version error listing
  /// it means once more; a 4xx or an error answer means a 2025 server, and so does a 401 or
  /// 403 (then `assumed`: the bridge's own request never starts a login). Errors are
  /// outages (5xx, network). `during_auth`: sent even while an authorization round holds
  /// every other message (the era learnt again with the new credentials).
  void discover(std::string meta_json, std::function<void(Result<Discovery>)> done,
                bool during_auth = false);

  /// Replaces the Authorization header of every later request (credentials minted during
  /// the session).
  void set_authorization(const std::string& value);

  /// Ends the round `on_auth_required` started: with the Authorization value to use, the
  /// waiting messages go out again; with an error, their requests fail with it.
  void auth_finished(Result<std::string> authorization);

  /// Ends the round like `auth_finished` with a new Authorization, but hands the client's
  /// waiting messages back (their raw text, in order) instead of sending them: the remote
  /// turned out to speak another era, and they must be routed again.
  std::vector<std::string> auth_finished_handing_back(const std::string& authorization);

  /// Drops the HTTP transfer carrying the request with this id, if any; nothing more is
  /// reported for it.
  void abandon(const std::string& id);

  /// Ends the session (DELETE when the remote gave one), bounded by `budget_ms`, then
  /// calls `done`. No event is raised afterwards.
  void shutdown(long budget_ms, std::function<void()> done);

 private:
  struct Outgoing;
  struct Stream;

  void post(std::shared_ptr<Outgoing> o);
  void finish_post(const std::shared_ptr<Outgoing>& o, const HttpHead& head, HttpDone&& done,
                   const std::shared_ptr<Stream>& stream);
  void resume(const std::shared_ptr<Outgoing>& o, std::shared_ptr<Stream> stream);
  /// Holds a refused request for the authorization round; false when it may not wait
  /// (it already waited twice, or nobody handles authorization).
  bool wait_for_auth(const std::shared_ptr<Outgoing>& o, const HttpHead& head);
  void fail(const std::shared_ptr<Outgoing>& o, std::string message, long status = 0,
            std::string detail = {});
  void deliver_text(std::string text, const std::shared_ptr<Outgoing>& origin,
                    const std::shared_ptr<Stream>& stream);
  void deliver(jsonrpc::Message&& m, const std::string& related);
  void on_session_lost(std::shared_ptr<Outgoing> o);
  void start_reinitialize();
  void send_replayed_initialize();
  void reinitialize_failed(const std::string& why);
  void open_get_stream();
  void schedule_get_stream(long delay_ms);
  void switch_to_legacy(std::shared_ptr<Outgoing> initialize);
  void open_legacy_stream();
  void legacy_post(std::shared_ptr<Outgoing> o);
  void flush_deferred();
  void open_gate();
  void sent_one();
  void end_session(long budget_ms, std::function<void()> done);
  /// User headers, Accept, and (when `with_session`) the session id and protocol version.
  std::vector<std::string> request_headers(bool json_body, const std::string& accept,
                                           bool with_session) const;
  HttpRequest make_request(std::string method, const std::string& url) const;
  void capture_initialize_result(const jsonrpc::Message& m);
  void send_discover(std::string meta_json, int attempt, bool during_auth,
                     std::function<void(Result<Discovery>)> done);
  /// A transfer that failed before any answer: sends it again after a back-off (true), fails
  /// it as maybe-run when it may have arrived and must not repeat (true), or leaves the
  /// failure to the caller (false).
  bool retry_unanswered(const std::shared_ptr<Outgoing>& o, const HttpDone& done);
  void finish_refused(const std::shared_ptr<Outgoing>& o, long status, const std::string& body,
                      const std::string& why);
  long next_backoff(int failures) const;

  asio::io_context& m_io;
  HttpTransport& m_http;
  RemoteOptions m_options;
  RemoteEvents m_events;
  std::vector<std::string> m_static_headers;

  enum class Mode { unknown, streamable, legacy, modern };
  Mode m_mode = Mode::unknown;
  std::string m_session_id;
  std::string m_protocol_version;
  std::string m_initialize_raw;   ///< the client's initialize, replayed on a new session
  std::string m_initialized_raw;  ///< the client's notifications/initialized
  int m_generation = 0;           ///< bumped by every new session
  bool m_reinitializing = false;
  int m_reinit_restarts = 0;   ///< new sessions lost while being opened, in a row
  bool m_gate_closed = false;  ///< the client's notifications/initialized is on its way
  bool m_closing = false;
  int m_sending = 0;  ///< notifications and responses posted and not yet acknowledged
  std::function<void()> m_after_sending;  ///< the session's end, once they are
  std::deque<std::shared_ptr<Outgoing>> m_deferred;
  /// The Authorization value sent now, if any; each message keeps the one it went out with
  /// (a shared pointer, so that costs no copy per message).
  std::shared_ptr<const std::string> m_authorization;
  bool m_auth_pending = false;
  std::deque<std::shared_ptr<Outgoing>> m_auth_waiting;
  std::unordered_map<std::string, std::shared_ptr<Outgoing>> m_in_flight;  ///< by request id
  std::unordered_map<std::string, std::shared_ptr<Outgoing>> m_internal;   ///< bridge's own
  int m_internal_counter = 0;
  /// The 401/403 that refused the bridge's era probe: a login uses it if the client's own
  /// initialize is then refused as not understood (a 2026-07-28 remote wanting credentials).
  std::optional<HttpHead> m_probe_challenge;

  std::shared_ptr<Stream> m_get;  ///< the GET stream (streamable) or the legacy SSE stream
  bool m_get_unsupported = false;
  asio::steady_timer m_get_timer;
  asio::steady_timer m_gate_timer;  ///< opens the gate if the remote never acknowledges
  std::string m_legacy_endpoint;
  const std::string m_no_request;
};

}  // namespace claribi::transport
