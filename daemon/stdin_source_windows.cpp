// Stdin on Windows: Asio cannot wait on a console or an anonymous pipe, so a thread reads it
// (CMake compiles this file on Windows only).
#include "daemon/stdin_source.hpp"

#include <utility>

namespace claribi::daemon {

std::unique_ptr<StdinSource> read_stdin(asio::io_context&, std::shared_ptr<PostGuard> inbox,
                                        StdinSink sink, std::size_t max_message) {
  return read_stdin_on_thread(std::move(inbox), std::move(sink), max_message);
}

}  // namespace claribi::daemon
