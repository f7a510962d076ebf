#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "daemon/credentials.hpp"
#include "daemon/era.hpp"
#include "daemon/line_framer.hpp"
#include "daemon/listen.hpp"
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
  /// Set when the configuration cannot work (e.g. an encrypted CLARIBI_API_KEY): every
  /// request is answered with this error and nothing goes to the remote.
  std::string config_error;
};

/// Routes MCP messages between the stdio client and the remote. Answers locally what the
/// bridge must (parse errors, oversized input, timeouts), keeps one JSON-RPC answer per
/// client request, and starts nothing (no thread, no network) until the first message that
/// needs the remote. Either side may speak the 2025 revisions or stateless 2026-07-28; the
/// bridge learns the remote's era with one server/discover and translates where the two
/// differ (see era.hpp). Io thread only.
class Bridge {
 public:
  Bridge(asio::io_context& io, StdoutWriter& out, BridgeOptions options,
         std::function<void()> on_finished);
  ~Bridge();

  void on_line(std::string&& line);
  /// One parsed client message (a line, or one held back until the remote's era is known).
  void route(jsonrpc::Message&& m);
  /// A stdin line over the message limit: answered with an error, never forwarded.
  void on_oversized(LineFramer::Oversized&& line);
  /// Stdin closed: finish what is in flight (briefly), end the session, then finish.
  void on_eof();
  /// Ends the remote session (bounded) and calls `on_finished`. Idempotent.
  void shutdown();

 private:
  struct Pending {
    std::string method;
    std::string upstream_id;  ///< the id the remote knows it by, when not the client's
    std::string raw;          ///< the request as sent upstream, for input_required retries
    std::shared_ptr<const transport::UploadBody> upload;  ///< its file, when a path twin sent one
    int input_rounds = 0;
    std::string tool;  ///< tools/call: the tool's name
    std::string progress_token;
    std::uint64_t uploaded = 0;  ///< file bytes a path twin sent; offsets the server's progress
    std::unique_ptr<asio::steady_timer> timer;
  };
  struct Held {
    jsonrpc::Message message;
    std::shared_ptr<const transport::UploadBody> upload;
  };
  struct Poster;
  /// One input_required round: the server's questions, put to the client as requests.
  struct InputRound {
    era::InputRequired asked;
    std::map<std::string, std::string> answers;                ///< key → bare result JSON
    std::unordered_map<std::string, std::string> outstanding;  ///< our request id → key
  };
  enum class Upstream { unknown, discovering, modern, legacy };
  enum class ClientEra { unknown, legacy, modern };

  transport::Remote& remote();
  /// Sends to the remote, holding messages back while the API key is being looked up.
  void send_to_remote(jsonrpc::Message&& m,
                      std::shared_ptr<const transport::UploadBody> upload = nullptr);
  void send_now(jsonrpc::Message&& m, std::shared_ptr<const transport::UploadBody> upload);
  /// Starts the API key / token lookup once (off the io thread).
  void load_credentials();
  void on_upload_progress(const std::string& id, std::uint64_t sent, std::uint64_t total);
  void ask_client_roots();
  void on_roots_answer(const jsonrpc::Message& m);
  struct Loaded {
    Result<std::optional<std::string>> key = std::optional<std::string>();
    std::optional<oauth::TokenSet> tokens;
  };
  void on_credentials_loaded(Loaded&& loaded);
  /// The remote refused a request: log in (or refresh) off the io thread, then resume.
  void on_auth_required(const transport::AuthChallenge& challenge);
  void use_tokens(const oauth::TokenSet& tokens);
  /// Refreshes the access token a little before it expires, so calls never meet a 401.
  void schedule_refresh(const oauth::TokenSet& tokens);
  /// A tools/call answer carrying minted credentials: use them, store the key, then
  /// forward the answer with the credentials replaced by notes.
  void capture_minted(jsonrpc::Message&& m, const Minted& minted);
  template <class T, class F>
  void run_off_thread(std::function<T()> work, F&& done);
  /// `related`: the request whose response stream carried it, if any.
  void on_remote_message(jsonrpc::Message&& m, const std::string& related);
  /// Asks the remote's era again with the credentials a login just gave (the probe was
  /// refused without them); the messages the login held go where the answer says.
  void relearn_era(const std::string& authorization);
  /// Learns the remote's era (once per process); held messages go out when it is known.
  void discover_upstream(const std::string& meta, bool may_log_in);
  void on_discovered(Result<transport::Discovery>&& d);
  /// A client request past the era step: the tool layer, the pending table, the remote.
  /// `schema_failure` is set when the schema its path twin needed could not be learnt.
  void send_request(jsonrpc::Message&& m, const std::string& schema_failure = {});
  /// Routes one client message by the two eras; false when it was answered or consumed.
  bool translate(jsonrpc::Message& m);
  void answer_initialize(const jsonrpc::Message& m);
  void answer_discover(const std::string& id);
  /// A modern client on a 2025 remote: the session the bridge opens on its behalf.
  void open_legacy_session();
  void on_session_opened(jsonrpc::Message&& m);
  void retry_with_answers(const std::string& client_id);
  /// The remote asks the client for input (2026-07-28): ask it, then retry.
  void start_input_round(const std::string& client_id, const json::Value& result);
  void on_input_answer(const jsonrpc::Message& m);
  void fail_input_round(const std::string& client_id, int code, const std::string& message);
  /// A 2025 client's standing interest in changes, on a 2026-07-28 remote's listen stream.
  UpstreamListen& upstream_listen();
  /// A 2026-07-28 client's subscriptions/listen, served by the bridge for a 2025 remote.
  LocalListen& local_listen();
  /// Sends a request of the bridge's own; its answer (or failure) goes to `done`.
  void ask_remote(const std::string& method, const std::string& params_json,
                  std::function<void(Result<jsonrpc::Message>)> done);
  /// A 2025 server asked a 2026-07-28 client something mid-call (`related` is the call):
  /// the call's client request is answered with input_required and the call held.
  void suspend_call(jsonrpc::Message&& server_request, const std::string& related);
  /// The client's retry of a held call with the answers: true when it was one.
  bool resume_call(jsonrpc::Message& retry);
  void answer_suspended(const std::string& state, const std::string& client_id);
  void end_suspended(const std::string& state, const std::string& why);
  std::string upstream_id_of(const std::string& client_id) const;
  /// Forgets a client request and everything it holds: its input round, its retry alias,
  /// and its upstream transfer (closed).
  void drop(const std::string& client_id);
  /// notifications/cancelled from the client: drops the request it names, if pending.
  void on_client_cancel(const jsonrpc::Message& m);
  void on_remote_failure(const std::string& id, transport::RequestFailure&& f);
  void track(const jsonrpc::Message& m);
  void arm_timer(const std::string& id, Pending& p);
  void on_timeout(const std::string& id);
  void forget(const std::string& id);
  void reply_error(const std::string& id, int code, const std::string& message);
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
  std::unique_ptr<transport::HttpWorker> m_http;
  std::unique_ptr<transport::Remote> m_remote;
  std::unordered_map<std::string, Pending> m_pending;             ///< client requests by id
  std::unordered_map<std::string, std::string> m_progress_owner;  ///< progress token → id
  enum class KeyState { unloaded, loading, ready };
  KeyState m_key_state = KeyState::unloaded;
  std::vector<Held> m_held;                        ///< waiting for the API key lookup
  std::vector<std::function<void()>> m_after_key;  ///< to run once the lookup ended
  std::string m_access_token;                      ///< the OAuth access token in use
  bool m_auth_round = false;  ///< a login or refresh runs for a refused request
  bool m_refreshing = false;  ///< a proactive refresh runs
  asio::steady_timer m_refresh_timer;
  std::shared_ptr<Poster> m_poster;
  bool m_client_has_roots = false;
  Upstream m_upstream = Upstream::unknown;
  /// The era probe was refused for want of credentials: 2025 assumed, learnt again at login.
  bool m_era_assumed = false;
  std::string m_minted_key;  ///< an API key a tool minted this session (a secret)
  ClientEra m_client_era = ClientEra::unknown;
  std::string m_discover_result;  ///< the remote's server/discover result (compact JSON)
  /// When the discover result stops being fresh (its ttlMs); the first answer from it is
  /// always given, since it was fetched for that very request.
  std::chrono::steady_clock::time_point m_discover_expires;
  bool m_discover_unused = false;
  std::string m_initialize_result;           ///< a 2025 remote's initialize result (modern client)
  std::vector<jsonrpc::Message> m_era_held;  ///< client messages waiting for the era
  std::vector<std::string> m_discover_waiting;  ///< client server/discover ids
  era::ClientIdentity m_identity;               ///< a 2025 client's, stamped on modern requests
  std::unordered_map<std::string, InputRound> m_rounds;        ///< by client request id
  std::unordered_map<std::string, std::string> m_input_owner;  ///< our request id → client id
  std::unordered_map<std::string, std::string> m_alias;        ///< upstream retry id → client id
  /// A call to a 2025 server held while its 2026-07-28 client answers the server's questions.
  struct Suspended {
    std::string upstream_id;  ///< the id the remote knows the call by
    Pending pending;          ///< the client request, set aside until the retry
    std::map<std::string, jsonrpc::Message> asked;  ///< key → the server's request
    std::string final_answer;  ///< the remote's answer, when it came before the retry
    std::unique_ptr<asio::steady_timer> timer;
  };
  std::unordered_map<std::string, Suspended> m_suspended;         ///< by requestState
  std::unordered_map<std::string, std::string> m_suspended_call;  ///< upstream id → state
  std::unordered_map<std::string, std::string> m_waiting_retry;   ///< state → client id
  std::unique_ptr<UpstreamListen> m_upstream_listen;
  std::unique_ptr<LocalListen> m_local_listen;
  /// The bridge's own requests to the remote, by id: who takes the answer.
  std::unordered_map<std::string, std::function<void(Result<jsonrpc::Message>)>> m_own;
  int m_bridge_ids = 0;
  /// Only server/discover so far (a client's throwaway sibling): credentials are read but
  /// never refreshed, and nothing logs in.
  bool m_probe = false;
  bool m_session_opening = false;
  std::string m_session_init_id;  ///< the initialize the bridge sent for a modern client
  bool m_session_may_log_in = true;
  int m_roots_requests = 0;
  bool m_eof = false;
  bool m_shutting_down = false;
  bool m_finished = false;
  asio::steady_timer m_grace;
  /// Runs when the pending table stayed empty a moment after it drained: freed memory goes
  /// back to the system, so a burst does not leave the process at its high-water mark.
  asio::steady_timer m_trim_timer;
};

}  // namespace claribi::daemon
