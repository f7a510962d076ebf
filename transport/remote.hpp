#pragma once

#include <asio/io_context.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "transport/auth_hold.hpp"
#include "transport/discover.hpp"
#include "transport/event_stream.hpp"
#include "transport/http_transport.hpp"
#include "transport/keep_alive.hpp"
#include "transport/legacy_channel.hpp"
#include "transport/outgoing.hpp"
#include "transport/remote_options.hpp"
#include "transport/remote_session.hpp"
#include "transport/request_factory.hpp"
#include "transport/unconfirmed.hpp"
#include "util/jsonrpc.hpp"

namespace claribi::transport {

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
  /// The 2026-07-28 (or later) revision a request goes under, statelessly, with the headers
  /// that revision derives from the body; empty: in the session. The caller, which knows
  /// both eras, decides; the transport does not look into bodies for it.
  std::string stateless_version;
  /// A 401 may start the authorization round (false: it fails the request at once).
  bool may_log_in = true;
  /// The remote must act on it at most once (a tools/call that is not idempotent): never
  /// sent again once it may have arrived, and a failure then says it may or may not have run.
  /// Otherwise a request that never got an answer is sent again, a few times.
  bool at_most_once = false;
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
/// revision's headers (sent again once when the remote refuses them as HeaderMismatch), and
/// a cut stream of theirs is never resumed: sent again under a new id, or failed;
/// `discover` learns which era the remote speaks. All members must be called on the io
/// thread; events are raised there.
///
/// The Remote keeps the table of what is in flight, POSTs each message and decides what its
/// answer means; the session (`Session`), the event streams (`EventStreams`), the HTTP+SSE
/// channel (`LegacyChannel`), the authorization round (`AuthHold`) and the era probe
/// (`probe_era`) each keep their own state and reach back only through their small link.
class Remote final : private SessionLink,
                     private StreamLink,
                     private LegacyLink,
                     private ProbeLink {
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
  /// a discover result naming 2026-07-28 means modern; HeaderMismatch, or an
  /// unsupported-version error listing it (or nothing), means once more; a 4xx or another
  /// error answer means a 2025 server, and so does a 401 or 403 (then `assumed`: the
  /// bridge's own request never starts a login). Errors are outages (5xx, network) and
  /// modern servers the bridge cannot talk to. `during_auth`: sent even while an
  /// authorization round holds every other message (the era learnt again with the new
  /// credentials).
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
  // What the session, the event streams and the HTTP+SSE channel may ask of the sender.
  bool closing() const override { return m_closing; }
  bool streamable() const override { return m_mode == Mode::streamable; }
  void post(std::shared_ptr<Outgoing> o) override;
  void fail(const std::shared_ptr<Outgoing>& o, std::string message, long status) override;
  std::string internal_id(std::string_view purpose) override;
  bool reopen_channel() override;
  void initialized() override;
  void deliver_event(std::string data, const std::shared_ptr<Stream>& stream) override;
  void fail_unanswered(const std::string& why) override;

  /// The POST of `o` to `url`: its body (or upload), at-most-once, the session generation.
  HttpRequest make_post(const std::string& url, Outgoing& o);
  void post_streamable(std::shared_ptr<Outgoing> o);
  void post_legacy(std::shared_ptr<Outgoing> o);
  void finish_post(const std::shared_ptr<Outgoing>& o, const HttpHead& head, HttpDone&& done,
                   const std::shared_ptr<Stream>& stream);
  /// The outcome of a 2xx to a POST.
  void finish_accepted(const std::shared_ptr<Outgoing>& o, const HttpHead& head, HttpDone&& done,
                       const std::shared_ptr<Stream>& stream);
  /// The outcome of an error status to a POST.
  void finish_error(const std::shared_ptr<Outgoing>& o, const HttpHead& head, HttpDone&& done);
  void finish_legacy_post(const std::shared_ptr<Outgoing>& o, const HttpHead& head,
                          HttpDone&& done);
  /// Fails `o`: a client request gets a JSON-RPC error naming the remote, `status` and the
  /// start of the answer's `body`, redacted.
  void fail(const std::shared_ptr<Outgoing>& o, std::string message, long status,
            std::string_view body);
  void deliver_text(std::string text, const std::shared_ptr<Outgoing>& origin,
                    const std::shared_ptr<Stream>& stream);
  void deliver(jsonrpc::Message&& m, const std::string& related);
  void switch_to_legacy(std::shared_ptr<Outgoing> initialize);
  /// DELETE of the streamable session within `budget_ms`, then `done`.
  void end_session(long budget_ms, std::function<void()> done);
  /// A transfer that failed before any answer: sends it again after a back-off (true), fails
  /// it as maybe-run when it may have arrived and must not repeat (true), or leaves the
  /// failure to the caller (false).
  bool retry_unanswered(const std::shared_ptr<Outgoing>& o, const HttpDone& done);
  void finish_refused(const std::shared_ptr<Outgoing>& o, long status, const std::string& body,
                      const std::string& why);
  /// --ping-interval: a 2025 session is open and quiet (no request in flight, no login).
  bool may_ping() const;
  /// A ping of the bridge's own; its answer stays here. One unanswered when the next is due
  /// is dropped.
  void ping();

  // The answers only a 2026-07-28 remote gives (remote_stateless.cpp).
  /// `body` refuses stateless request `o` in a way the client may fix (HeaderMismatch, an
  /// unsupported version it lists): sends `o` again, once, its headers computed anew from
  /// its body (true); otherwise false, and the answer is the client's.
  bool resend_fixed(const std::shared_ptr<Outgoing>& o, const std::string& body);
  /// The response stream of stateless request `o` ended before its answer. That revision
  /// cannot resume it: a request that changes nothing (or a tools/call that may repeat) goes
  /// again once under a new id; anything else fails, saying whether it may have run.
  void stateless_stream_cut(const std::shared_ptr<Outgoing>& o, const HttpDone& done, long status,
                            const Stream& stream);
  /// A response to a request sent again under a new id gets the id its sender knows.
  void restore_client_id(jsonrpc::Message& m);

  asio::io_context& m_io;
  HttpTransport& m_http;
  RemoteOptions m_options;
  RemoteEvents m_events;
  RequestFactory m_requests;
  AuthHold m_auth;

  enum class Mode { unknown, streamable, legacy, modern };
  Mode m_mode = Mode::unknown;
  Session m_session;
  EventStreams m_streams;
  LegacyChannel m_legacy;
  bool m_closing = false;
  Unconfirmed m_unconfirmed;
  std::unordered_map<std::string, std::shared_ptr<Outgoing>> m_in_flight;  ///< by request id
  std::unordered_map<std::string, std::shared_ptr<Outgoing>> m_internal;   ///< bridge's own
  std::unordered_map<std::string, std::shared_ptr<Outgoing>> m_renamed;    ///< by wire id
  int m_internal_counter = 0;
  KeepAlive m_keep_alive;
  std::shared_ptr<Outgoing> m_ping;  ///< the last ping, until answered
  /// The 401/403 that refused the bridge's era probe: a login uses it if the client's own
  /// initialize is then refused as not understood (a 2026-07-28 remote wanting credentials).
  std::optional<HttpHead> m_probe_challenge;
  const std::string m_no_request;
};

}  // namespace claribi::transport
