#include "daemon/cli.hpp"
#include "daemon/credential_commands.hpp"
#include "daemon/install_command.hpp"
#include "daemon/main.hpp"
#include "daemon/run.hpp"
#include "util/log.hpp"

#include <exception>

namespace claribi::daemon {

int main(int argc, char** argv) {
  StdoutWriter out;
  try {
    int exit_code = 0;
    std::string printed;
    auto invocation = parse_command_line(argc, argv, exit_code, printed);
    if (!invocation) {
      if (!printed.empty()) out.write_line(printed.substr(0, printed.find_last_not_of('\n') + 1));
      if (!invocation.error().message.empty()) {
        log::write(log::Level::error, invocation.error().message);
      }
      out.close();
      return exit_code;
    }
    using Command = Invocation::Command;
    int code = 0;
    switch (invocation->command) {
      case Command::run:
        code = run_bridge(*invocation, out);
        break;
      case Command::tools:
      case Command::call: {
        auto inv = *invocation;
        if (inv.bridge.load_api_key) {
          auto key = inv.bridge.load_api_key();
          if (!key) {
            log::write(log::Level::warn, "no API key from the keychain: " + key.error().message);
          } else if (*key) {
            log::add_secret(**key);
            inv.bridge.remote.headers.push_back(Header{"Authorization", "Bearer " + **key});
          } else if (inv.bridge.oauth) {
            // Tokens of an earlier login; a 401 here means: run 'claribi-bridge login'.
            auto tokens = inv.bridge.oauth->load();
            if (tokens && *tokens) {
              inv.bridge.remote.headers.push_back(
                  Header{"Authorization", (*tokens)->token_type + " " + (*tokens)->access_token});
            }
          }
        }
        code = run_diagnostic(inv, out);
        break;
      }
      case Command::install:
      case Command::uninstall:
        code = run_install_command(*invocation, out);
        break;
      default:
        code = run_credential_command(*invocation, out);
    }
    out.close();
    return code;
  } catch (const std::exception& e) {
    log::write(log::Level::error, std::string("fatal: ") + e.what());
    out.close();
    return 70;
  }
}

}  // namespace claribi::daemon
