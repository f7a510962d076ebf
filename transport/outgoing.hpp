#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "transport/http_transport.hpp"
#include "util/jsonrpc.hpp"
#include "util/result.hpp"

namespace claribi::transport {

/// One message on its way to the remote (the client's, or the bridge's own), with what its
/// retries have used up. Shared by the units that may send it again: the Remote (POST and
/// outcome), the session (replay after a lost session) and the event streams (resumption).
struct Outgoing {
  jsonrpc::Kind kind = jsonrpc::Kind::notification;
  std::string method;
  std::string id;
  SharedText raw;         ///< the message's text; the body of each POST of it, shared
  bool internal = false;  ///< the bridge's own message (session replay), never shown to the client
  /// Claims a stateless revision in its `_meta`: sent without session, with `headers`.
  bool modern = false;
  std::string version;  ///< that revision, as the caller gave it
  std::vector<std::string> headers;
  /// How many of `headers`, at the front, the revision derives from the body (computed
  /// again when the remote refuses them as HeaderMismatch); the rest are the caller's.
  std::size_t derived_headers = 0;
  int fixes = 0;           ///< sent again after a modern refusal (HeaderMismatch...), at most once
  int reissues = 0;        ///< sent again under a new id after its 2026-07-28 stream was cut
  std::string wire_id;     ///< that new id (compact JSON); empty while it goes under `id`
  bool may_log_in = true;  ///< a 401 may start the authorization round
  bool during_auth = false;  ///< goes out while an authorization round holds the rest
  bool at_most_once = false;
  int net_retries = 0;
  int generation = 0;  ///< the session generation it went out with
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

  /// The id the remote knows it by.
  const std::string& wire() const { return wire_id.empty() ? id : wire_id; }
};

}  // namespace claribi::transport
