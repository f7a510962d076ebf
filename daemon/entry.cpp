#include "daemon/cli.hpp"
#include "daemon/compose.hpp"
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
    if (auto composed = compose_credentials(*invocation); !composed) {
      log::write(log::Level::error, composed.error().message);
      out.close();
      return 2;
    }
    using Command = Invocation::Command;
    int code = 0;
    switch (invocation->command) {
      case Command::run:
        code = run_bridge(*invocation, out);
        break;
      case Command::tools:
      case Command::call:
        code = run_diagnostic(*invocation, out);
        break;
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
