#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <string>

#include "daemon/auth_session.hpp"
#include "daemon/credentials.hpp"
#include "daemon/era.hpp"
#include "daemon/era_negotiator.hpp"
#include "daemon/input_broker.hpp"
#include "daemon/line_framer.hpp"
#include "daemon/links.hpp"
#include "daemon/request_table.hpp"
#include "daemon/stdout_writer.hpp"
#include "daemon/tool_layer.hpp"
#include "daemon/tool_schemas.hpp"
#include "oauth/oauth.hpp"
#include "transport/http_worker.hpp"
#include "transport/remote.hpp"

namespace claribi::daemon {

struct BridgeOptions {
  transport::RemoteOptions remote;
  long timeout_ms = 0;  ///< per request, restarted by progress; 0 = none
  /// Which MCP era to speak to the remote (--protocol): learnt by one server/discover, or
  /// pinned.
  era::Pin protocol = era::Pin::auto_detect;
  /// The file remembering the remote's era across runs (EraCache::path_for), used only
  /// under --protocol auto; empty: none.
  std::string era_cache;
  /// Where the Authorization header in `remote.headers` came from (none: there is none).
  CredentialSource credential_source = CredentialSource::none;
  /// When set, called once (on a helper thread) before the first message goes out: the
  /// server's API key from the keychain, if any. May block on the keyring.
  std::function<Result<std::optional<std::string>>()> load_api_key;
  /// The OAuth client, when a 401 from the remote may lead to a login (no credential was
  /// given by --header or CLARIBI_API_KEY). Its stored tokens are loaded with the API key.
  std::shared_ptr<oauth::Authorizer> oauth;
  /// Stores an API key a tool minted (on a helper thread). May block on the keyring.
  std::function<Result<void>(const std::string&)> store_api_key;
  /// Tools whose results may carry minted credentials (verify_email).
  std::vector<CaptureRule> capture;
  /// Which tools the model may see and call.
  ToolPolicyOptions tools;
  /// Which local files path twins may send.
  UploadOptions uploads;
  /// Makes the HTTP transport, at the first message that needs the remote (unset: the
  /// libcurl worker). The composition root's seam for tests.
  std::function<std::unique_ptr<transport::HttpTransport>(asio::io_context&)> make_transport;
  /// Set when the configuration cannot work (e.g. an encrypted CLARIBI_API_KEY): every
  /// request is answered with this error and nothing goes to the remote.
  std::string config_error;
};

/// The router: routes MCP messages between the stdio client and the remote, in a fixed
/// order of stages, and answers locally what the bridge must (parse errors, oversized
/// input, timeouts). Keeps one JSON-RPC answer per client request and starts nothing (no
/// thread, no network) until the first message that needs the remote. A client request
/// goes: era negotiator → tool layer (policy, path twins, headers) → request table → auth
/// session → remote; its answer: request table → input broker → era negotiator → tool layer
/// → minted-credential capture → stdout. Io thread only.
class Bridge final : private Links {
 public:
  Bridge(asio::io_context& io, StdoutWriter& out, BridgeOptions options,
         std::function<void()> on_finished);
  ~Bridge() override;

  void on_line(std::string&& line);
  /// One parsed client message (a line, or one held back until the remote's era is known).
  void route(jsonrpc::Message&& m);
  /// A stdin line over the message limit: answered with an error, never forwarded.
  void on_oversized(LineFramer::Oversized&& line);
  /// Stdin closed: finish what is in flight (briefly), end the session, then finish.
  void on_eof();
  /// Ends the remote session (bounded) and calls `on_finished`. Idempotent.
  void shutdown();
  /// Stdout is backed up (a client slower than the remote) or has drained: the remote's event
  /// streams are not read further meanwhile.
  void hold_remote_reading(bool hold);

 private:
  // Links: how the units send.
  void to_client(std::string line) override { m_out.write_line(std::move(line)); }
  void reply_error(const std::string& id, int code, const std::string& message) override;
  void to_remote(jsonrpc::Message&& m,
                 std::shared_ptr<const transport::UploadBody> upload = nullptr) override;
  void drop(const std::string& client_id) override;
  void from_client(jsonrpc::Message&& m) override { route(std::move(m)); }
  void from_remote(jsonrpc::Message&& m, const std::string& related) override {
    on_remote_message(std::move(m), related);
  }

  transport::Remote& remote();
  EraPeers era_peers();
  void send_now(jsonrpc::Message&& m, std::shared_ptr<const transport::UploadBody> upload);
  /// A client request past the era step: the tool layer, the request table, the remote.
  /// `schema_failure` is set when the schema its path twin needed could not be learnt.
  void send_request(jsonrpc::Message&& m, const std::string& schema_failure = {});
  void on_upload_progress(const std::string& id, std::uint64_t sent, std::uint64_t total);
  void ask_client_roots();
  void on_roots_answer(const jsonrpc::Message& m);
  /// `related`: the request whose response stream carried it, if any.
  void on_remote_message(jsonrpc::Message&& m, const std::string& related);
  /// An answer to a client request: renamed back, input rounds, era marks, tool layer,
  /// minted-credential capture, stdout.
  void on_answer(jsonrpc::Message&& m);
  void on_progress(jsonrpc::Message& m);
  /// A tools/call answer carrying minted credentials: use them, store the key, then
  /// forward the answer with the credentials replaced by notes.
  void capture_minted(jsonrpc::Message&& m, const Minted& minted);
  /// notifications/cancelled from the client: drops the request it names, if pending.
  void on_client_cancel(const jsonrpc::Message& m);
  void on_remote_failure(const std::string& id, transport::RequestFailure&& f);
  void on_timeout(const std::string& id);
  void forget(const std::string& id);
  void maybe_finish_after_eof();
  /// Nothing in flight or waiting for the remote's era.
  bool idle() const;
  void finish();

  asio::io_context& m_io;
  StdoutWriter& m_out;
  BridgeOptions m_options;
  std::function<void()> m_on_finished;
  ToolLayer m_tools;
  ToolSchemas m_schemas;  ///< calls waiting for a schema the client never listed
  std::unique_ptr<transport::HttpTransport> m_http;
  bool m_hold_reading = false;
  std::unique_ptr<transport::Remote> m_remote;
  RequestTable m_table;
  AuthSession m_auth;
  InputBroker m_broker;
  EraNegotiator m_era;
  bool m_client_has_roots = false;
  int m_roots_requests = 0;
  bool m_eof = false;
  bool m_shutting_down = false;
  bool m_finished = false;
  asio::steady_timer m_grace;
};

}  // namespace claribi::daemon
