#include "daemon/run.hpp"

#include "daemon/bridge.hpp"
#include "daemon/post_guard.hpp"
#include "daemon/stdin_source.hpp"
#include "util/log.hpp"
#include "util/platform.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>

#include <csignal>
#include <memory>
#include <string>
#include <utility>

namespace claribi::daemon {

int run_bridge(const Invocation& invocation, StdoutWriter& out) {
  platform::prepare_stdio();
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  Bridge bridge(io, out, invocation.bridge, [&] {
    work.reset();
    io.stop();
  });
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int sig) {
    if (ec) return;
    CLARIBI_LOG(info, "signal " << sig << ": ending the session");
    bridge.shutdown();
  });
  auto inbox = PostGuard::make(io);
  out.on_broken([inbox, bridge = &bridge](std::string why) {
    inbox->post([bridge, why = std::move(why)] {
      CLARIBI_LOG(warn, "the client closed the bridge's stdout ("
                            << why << "): no answer can reach it; ending the session");
      bridge->shutdown();
    });
  });
  // A client slower than the remote: its lines wait in the writer's queue, and the remote's
  // event streams are not read further until that queue has drained.
  out.on_flow([inbox, bridge = &bridge](bool backed_up) {
    inbox->post([bridge, backed_up] { bridge->hold_remote_reading(backed_up); });
  });
  auto in =
      read_stdin(io, inbox,
                 StdinSink{[&](std::string&& line) { bridge.on_line(std::move(line)); },
                           [&](LineFramer::Oversized&& o) { bridge.on_oversized(std::move(o)); },
                           [&] { bridge.on_eof(); }},
                 invocation.bridge.remote.max_message_bytes);
  io.run();
  inbox->close();
  return 0;
}

}  // namespace claribi::daemon
