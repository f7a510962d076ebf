#pragma once

#include "daemon/cli.hpp"
#include "daemon/stdout_writer.hpp"

namespace claribi::daemon {

/// `install` and `uninstall`. Returns the process exit code.
int run_install_command(const Invocation& invocation, StdoutWriter& out);

}  // namespace claribi::daemon
