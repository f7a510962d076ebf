#pragma once

#include "daemon/line_framer.hpp"
#include "daemon/post_guard.hpp"

#include <asio/io_context.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace claribi::daemon {

/// Where stdin's messages go. Each function runs on the io thread, in stdin's order.
struct StdinSink {
  std::function<void(std::string&&)> line;
  std::function<void(LineFramer::Oversized&&)> oversized;
  std::function<void()> eof;  ///< once, after the last line
};

/// What reads stdin; keep it while the io context runs.
class StdinSource {
 public:
  virtual ~StdinSource() = default;
};

/// Starts reading stdin into `sink`, lines bounded by `max_message`. Per platform
/// (stdin_source_posix.cpp, stdin_source_windows.cpp): a pipe or socket is read by the io
/// thread's reactor, with no thread between it and the sink; anything else by a thread
/// (read_stdin_on_thread).
std::unique_ptr<StdinSource> read_stdin(asio::io_context& io, std::shared_ptr<PostGuard> inbox,
                                        StdinSink sink, std::size_t max_message);

/// Reads stdin with blocking reads on a thread of its own, posting to the io thread through
/// `inbox`: for what a reactor cannot wait on (a file, a terminal, a Windows console or pipe).
std::unique_ptr<StdinSource> read_stdin_on_thread(std::shared_ptr<PostGuard> inbox, StdinSink sink,
                                                  std::size_t max_message);

}  // namespace claribi::daemon
