#include "daemon/cli.hpp"
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
    int code = invocation->command == Invocation::Command::run ? run_bridge(*invocation, out)
                                                               : run_diagnostic(*invocation, out);
    out.close();
    return code;
  } catch (const std::exception& e) {
    log::write(log::Level::error, std::string("fatal: ") + e.what());
    out.close();
    return 70;
  }
}

}  // namespace claribi::daemon
