#pragma once

#include "daemon/cli.hpp"
#include "daemon/stdout_writer.hpp"

namespace claribi::daemon {

/// `key set`, `key remove`, `logout` and `status`. Returns the process exit code.
int run_credential_command(const Invocation& invocation, StdoutWriter& out);

}  // namespace claribi::daemon
