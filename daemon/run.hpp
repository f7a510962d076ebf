#pragma once

#include "daemon/cli.hpp"
#include "daemon/stdout_writer.hpp"

namespace claribi::daemon {

/// The bridge: stdin/stdout MCP to the remote until stdin closes or SIGTERM/SIGINT.
/// Main thread; starts the stdin reader thread, runs the io thread on the caller.
int run_bridge(const Invocation& invocation, StdoutWriter& out);

/// `tools` and `call`: a one-shot MCP client session against the remote, printing the
/// outcome for a person. Returns 0 on success, 1 when the remote or the tool failed.
int run_diagnostic(const Invocation& invocation, StdoutWriter& out);

}  // namespace claribi::daemon
