#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "daemon/credentials.hpp"
#include "daemon/line_framer.hpp"
#include "daemon/stdout_writer.hpp"
#include "daemon/tool_layer.hpp"
#include "oauth/oauth.hpp"
#include "transport/http_worker.hpp"
#include "transport/remote.hpp"

namespace claribi::daemon {

struct BridgeOptions {
  transport::RemoteOptions remote;
  long timeout_ms = 0;  ///< per request, restarted by progress; 0 = none
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
/// bridge must (parse errors, oversized input, server/discover, timeouts), keeps one JSON-RPC
/// answer per client request, and starts nothing (no thread, no network) until the first
/// message that needs the remote. Io thread only.
class Bridge {
 public:
  Bridge(asio::io_context& io, StdoutWriter& out, BridgeOptions options,
         std::function<void()> on_finished);
  ~Bridge();

  void on_line(std::string&& line);
  /// A stdin line over the message limit: answered with an error, never forwarded.
  void on_oversized(LineFramer::Oversized&& line);
  /// Stdin closed: finish what is in flight (briefly), end the session, then finish.
  void on_eof();
  /// Ends the remote session (bounded) and calls `on_finished`. Idempotent.
  void shutdown();

 private:
  struct Pending {
    std::string method;
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

  transport::Remote& remote();
  /// Sends to the remote, holding messages back while the API key is being looked up.
  void send_to_remote(jsonrpc::Message&& m,
                      std::shared_ptr<const transport::UploadBody> upload = nullptr);
  void send_now(jsonrpc::Message&& m, std::shared_ptr<const transport::UploadBody> upload);
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
  void on_remote_message(jsonrpc::Message&& m);
  void on_remote_failure(const std::string& id, transport::RequestFailure&& f);
  void track(const jsonrpc::Message& m);
  void arm_timer(const std::string& id, Pending& p);
  void on_timeout(const std::string& id);
  void forget(const std::string& id);
  void reply_error(const std::string& id, int code, const std::string& message);
  void maybe_finish_after_eof();
  void finish();

  asio::io_context& m_io;
  StdoutWriter& m_out;
  BridgeOptions m_options;
  std::function<void()> m_on_finished;
  ToolLayer m_tools;
  std::unique_ptr<transport::HttpWorker> m_http;
  std::unique_ptr<transport::Remote> m_remote;
  std::unordered_map<std::string, Pending> m_pending;             ///< client requests by id
  std::unordered_map<std::string, std::string> m_progress_owner;  ///< progress token → id
  enum class KeyState { unloaded, loading, ready };
  KeyState m_key_state = KeyState::unloaded;
  std::vector<Held> m_held;    ///< waiting for the API key lookup
  std::string m_access_token;  ///< the OAuth access token in use
  bool m_auth_round = false;   ///< a login or refresh runs for a refused request
  bool m_refreshing = false;   ///< a proactive refresh runs
  asio::steady_timer m_refresh_timer;
  std::shared_ptr<Poster> m_poster;
  bool m_client_has_roots = false;
  int m_roots_requests = 0;
  bool m_eof = false;
  bool m_shutting_down = false;
  bool m_finished = false;
  asio::steady_timer m_grace;
};

}  // namespace claribi::daemon
