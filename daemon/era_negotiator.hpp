#pragma once

// The only holder of both peers' MCP eras (the 2025 revisions, or stateless 2026-07-28).
// It learns the remote's with one server/discover (held messages wait for the answer), the
// client's from its first message, and routes each client message between them: passed
// through, rewritten (era.hpp), or answered here (initialize and server/discover from the
// cache, ping, logging level, subscriptions). For a 2026-07-28 client of a 2025 remote it
// opens the 2025 session on the client's behalf; for a 2025 client of a 2026-07-28 remote
// it keeps the client's standing interest in changes on a listen stream. It also sends the
// bridge's own requests to the remote, in the remote's era. Io thread only.

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/auth_session.hpp"
#include "daemon/era.hpp"
#include "daemon/era_cache.hpp"
#include "daemon/input_broker.hpp"
#include "daemon/links.hpp"
#include "daemon/listen.hpp"
#include "daemon/request_table.hpp"
#include "daemon/tool_layer.hpp"
#include "transport/remote.hpp"

namespace claribi::daemon {

/// What the negotiator asks of the remote.
struct EraRemote {
  std::function<void(const std::string& meta, std::function<void(Result<transport::Discovery>)>,
                     bool during_auth)>
      discover;
  std::function<void(const std::string& authorization)> set_authorization;
  std::function<void(Result<std::string>)> auth_finished;
  /// Ends an auth round handing back the client messages it held (raw text).
  std::function<std::vector<std::string>(const std::string& authorization)> hand_back;
  std::function<void(const std::string& id)> abandon;
};

/// The units the negotiator works with; it owns none of them.
struct EraPeers {
  Links& links;
  EraRemote remote;
  AuthSession& auth;
  ToolLayer& tools;
  RequestTable& table;
  InputBroker& broker;
  /// notifications/cancelled from the client: drop what it names.
  std::function<void(const jsonrpc::Message&)> cancel;
  /// Something held was answered or sent: the router may finish after stdin closed.
  std::function<void()> settled;
};

class EraNegotiator {
 public:
  /// `timeout_ms` bounds the bridge's own requests as --timeout bounds the client's (0: none).
  /// `cache`: the remote's era remembered from an earlier run, used instead of the probe
  /// (under --protocol auto) until the remote contradicts it.
  EraNegotiator(asio::io_context& io, era::Pin pin, EraPeers peers, long timeout_ms = 0,
                EraCache cache = EraCache());
  ~EraNegotiator();

  /// Routes one client message by the two eras; false when it was answered or held here.
  bool translate(jsonrpc::Message& m);

  /// Sends a request of the bridge's own; its answer (or failure) goes to `done`.
  void ask_remote(const std::string& method, const std::string& params_json,
                  std::function<void(Result<jsonrpc::Message>)> done);
  /// A message from the remote the negotiator consumes (the answer to the session it opened
  /// or to its own request, a listen stream's notification): true when it did.
  bool take_remote_message(jsonrpc::Message& m);
  /// A request of its own failed: true when `id` was one.
  bool take_failure(const std::string& id, const transport::RequestFailure& f);

  /// A login ended with `authorization`; true when the era is learnt again with it (the
  /// probe was refused for want of it), which then ends the auth round itself.
  bool after_login(const std::string& authorization);

  /// The revision a request leaving now goes under statelessly (its envelope's, for a
  /// 2026-07-28 remote), or empty: in the 2025 session.
  std::string stateless_version(const jsonrpc::Message& m) const;
  /// May the bridge's own initialize `id` lead to a login?
  std::optional<bool> may_log_in(const std::string& id) const;
  /// A 2026-07-28 remote, a 2025 client: input_required rounds happen in the bridge.
  bool rounds_here() const { return m_upstream == Upstream::modern && !client_modern(); }
  /// A 2025 remote, a 2026-07-28 client.
  bool answers_for_modern_client() const {
    return client_modern() && m_upstream == Upstream::legacy;
  }
  bool client_modern() const { return m_client_era == ClientEra::modern; }
  bool upstream_modern() const { return m_upstream == Upstream::modern; }
  /// The client's name, capabilities and log level, as it declared them.
  const era::ClientIdentity& identity() const { return m_identity; }

  /// Nothing waits for the era or the session.
  bool idle() const { return m_held.empty() && m_discover_waiting.empty(); }
  /// Shutdown: the ids of client requests that waited here (no longer held).
  std::vector<std::string> take_unanswered();
  void stop();

 private:
  enum class Upstream { unknown, discovering, modern, legacy };
  enum class ClientEra { unknown, legacy, modern };

  void learn_client(const jsonrpc::Message& m, bool request);
  bool to_modern_remote(jsonrpc::Message& m, bool request);
  bool to_legacy_remote(jsonrpc::Message& m, bool request);
  void discover_upstream(const std::string& meta, bool may_log_in);
  /// The remembered era, when there is one for this first request: true when it now holds.
  bool use_remembered(const jsonrpc::Message& m);
  /// Remembers what the remote said of its era (a probe's verdict, an initialize's revision).
  void remember(bool modern, const std::string& revision);
  /// The remote answered against the remembered era (`how`): forgets it and asks; what is
  /// held meanwhile is routed again after.
  void contradicted(const std::string& how);
  /// A 2025 initialize was answered: the remembered era holds; its revision is remembered.
  void confirmed_legacy(const json::Value& initialize_result);
  /// An answer to a request sent under the remembered era: confirms or contradicts it.
  bool check_remembered(jsonrpc::Message& m);
  void on_discovered(Result<transport::Discovery>&& d);
  void relearn(const std::string& authorization);
  void answer_initialize(const jsonrpc::Message& m);
  void answer_discover(const std::string& id);
  void answer_empty(const std::string& id);
  void open_legacy_session();
  void on_session_opened(jsonrpc::Message&& m);
  UpstreamListen& upstream_listen();
  LocalListen& local_listen();

  asio::io_context& m_io;
  era::Pin m_pin;
  EraPeers m_peers;
  Upstream m_upstream = Upstream::unknown;
  ClientEra m_client_era = ClientEra::unknown;
  /// The era probe was refused for want of credentials: 2025 assumed, learnt again at login.
  bool m_assumed = false;
  bool m_stopped = false;
  era::ClientIdentity m_identity;  ///< a 2025 client's, stamped on modern requests
  std::string m_discover_result;   ///< the remote's server/discover result (compact JSON)
  /// When the discover result stops being fresh (its ttlMs); the first answer from it is
  /// always given, since it was fetched for that very request.
  std::chrono::steady_clock::time_point m_discover_expires;
  bool m_discover_unused = false;
  std::string m_initialize_result;       ///< a 2025 remote's initialize result (modern client)
  std::vector<jsonrpc::Message> m_held;  ///< client messages waiting for the era
  std::vector<std::string> m_discover_waiting;  ///< client server/discover ids
  bool m_session_opening = false;
  std::string m_session_init_id;  ///< the initialize the bridge sent for a modern client
  bool m_session_may_log_in = true;
  int m_ids = 0;
  using OwnDone = std::function<void(Result<jsonrpc::Message>)>;
  /// One of the bridge's own requests to the remote: who takes the answer, and its timeout.
  struct Own {
    OwnDone done;
    std::unique_ptr<asio::steady_timer> timer;
  };
  /// Takes the request `id` out of the table (its timer stopped); empty when not there.
  OwnDone take_own(const std::string& id);

  long m_timeout_ms;
  EraCache m_cache;
  bool m_cache_read = false;
  /// The era in force was remembered, not yet confirmed by the remote in this run.
  bool m_remembered = false;
  std::string m_revision;  ///< the 2025 revision remembered or learnt, when known
  /// Client requests sent under a remembered era, by id (raw text), until an answer confirms
  /// it: routed again if the remote contradicts it. The 2025 client's initialize, or a
  /// 2026-07-28 client's first requests.
  std::unordered_map<std::string, std::string> m_unconfirmed;
  static constexpr std::size_t k_max_unconfirmed = 64;
  /// The initialize forwarded to a 2025 remote, whose answer names the revision.
  std::string m_watched_initialize;
  std::unordered_map<std::string, Own> m_own;  ///< by id
  std::unique_ptr<UpstreamListen> m_upstream_listen;
  std::unique_ptr<LocalListen> m_local_listen;
};

}  // namespace claribi::daemon
