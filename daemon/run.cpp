#include "daemon/run.hpp"

#include "daemon/bridge.hpp"
#include "daemon/line_framer.hpp"
#include "daemon/post_guard.hpp"
#include "util/log.hpp"
#include "util/platform.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>

#include <csignal>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace claribi::daemon {
namespace {

/// Stdin is read by a plain blocking thread: Asio cannot read stdin asynchronously on
/// Windows, and a blocking read costs nothing here.
void start_stdin_reader(std::shared_ptr<PostGuard> inbox, Bridge* bridge, std::size_t max_message) {
  std::thread([inbox, bridge, max_message] {
    LineFramer framer(LineFramer::Sink{[&](std::string&& line) {
                                         inbox->post([bridge, line = std::move(line)]() mutable {
                                           bridge->on_line(std::move(line));
                                         });
                                       },
                                       [&](LineFramer::Oversized&& o) {
                                         inbox->post([bridge, o = std::move(o)]() mutable {
                                           bridge->on_oversized(std::move(o));
                                         });
                                       }},
                      max_message);
    std::vector<char> buf(64 * 1024);
    for (;;) {
      long n = platform::read_stdin(buf.data(), buf.size());
      if (n <= 0) break;
      framer.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    }
    framer.finish();
    inbox->post([bridge] { bridge->on_eof(); });
  }).detach();
}

}  // namespace

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
  start_stdin_reader(inbox, &bridge, invocation.bridge.remote.max_message_bytes);
  io.run();
  inbox->close();
  return 0;
}

}  // namespace claribi::daemon
