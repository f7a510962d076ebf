#pragma once

#include <memory>
#include <string>
#include <vector>

#include "daemon/bridge.hpp"
#include "keychain/keychain.hpp"
#include "oauth/oauth.hpp"
#include "util/result.hpp"

namespace claribi::daemon {

/// What the command line asked for, checked and resolved (headers expanded, URL parsed).
struct Invocation {
  enum class Command {
    run,
    tools,
    call,
    key_set,
    key_remove,
    logout,
    status,
    install,
    uninstall,
    login
  };
  Command command = Command::run;
  BridgeOptions bridge;
  /// The canonical server name secrets are filed under (keychain::canonical_server).
  std::string server;
  /// status without a URL: every server with stored secrets.
  bool all_servers = false;
  std::shared_ptr<keychain::Keychain> store;
  /// key set / key remove: which secret (--client-secret, --client-key, --idp-token).
  keychain::SecretKind key_kind = keychain::SecretKind::api_key;
  /// How OAuth logins go (run and login); `bridge.oauth` is built from it.
  oauth::Options oauth;
  /// --no-oauth: a 401 never leads to a login.
  bool no_oauth = false;
  /// CLARIBI_API_KEY as the environment has it (unset: nullopt).
  std::optional<std::string> env_api_key;
  /// install / uninstall
  std::string client;                  ///< "claude" or "cursor"
  std::string entry_name = "clariBI";  ///< the key under mcpServers
  std::string project;                 ///< Cursor: a project folder instead of the global file
  bool dry_run = false;
  std::vector<std::string> entry_args;  ///< the args the entry gets: run URL [bridge flags]
  bool json_output = false;
  std::string tool;
  std::string tool_arguments = "{}";
};

/// Parses argv and configures logging. When it returns no invocation, the process should
/// exit with `exit_code` after writing `printed` (help or version text) to stdout and the
/// error, if any, to stderr.
Result<Invocation> parse_command_line(int argc, char** argv, int& exit_code, std::string& printed);

/// The default remote.
inline constexpr const char* k_default_url = "https://claribi.com/mcp/v1/";

}  // namespace claribi::daemon
