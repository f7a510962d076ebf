// Stdin on POSIX: a pipe or a socket (what MCP clients hand their servers) is read by the io
// thread's reactor, so a request reaches the session with no thread hop; a file or a
// terminal is left to a thread (CMake compiles this file everywhere but Windows).
#include "daemon/stdin_source.hpp"

#include "util/log.hpp"

#include <asio/posix/stream_descriptor.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <utility>

namespace claribi::daemon {
namespace {

class ReactorStdin final : public StdinSource {
 public:
  ReactorStdin(asio::io_context& io, int fd, StdinSink sink, std::size_t max_message)
      : m_sink(std::move(sink)),
        m_flags(::fcntl(0, F_GETFL)),
        m_in(io, fd),
        m_framer(
            LineFramer::Sink{[this](std::string&& line) { m_sink.line(std::move(line)); },
                             [this](LineFramer::Oversized&& o) { m_sink.oversized(std::move(o)); }},
            max_message) {
    read();
  }

  ~ReactorStdin() override {
    asio::error_code ignored;
    m_in.close(ignored);
    // Asio made the shared open file non-blocking: give it back as it was.
    if (m_flags != -1) ::fcntl(0, F_SETFL, m_flags);
  }

 private:
  void read() {
    m_in.async_read_some(asio::buffer(m_buf), [this](const asio::error_code& ec, std::size_t n) {
      if (ec == asio::error::operation_aborted) return;
      if (n > 0) m_framer.feed(std::string_view(m_buf.data(), n));
      if (!ec) {
        read();
        return;
      }
      if (ec != asio::error::eof) CLARIBI_LOG(warn, "reading stdin: " << ec.message());
      m_framer.finish();
      m_sink.eof();
    });
  }

  StdinSink m_sink;
  int m_flags;
  asio::posix::stream_descriptor m_in;
  std::array<char, 64 * 1024> m_buf{};
  LineFramer m_framer;
};

}  // namespace

std::unique_ptr<StdinSource> read_stdin(asio::io_context& io, std::shared_ptr<PostGuard> inbox,
                                        StdinSink sink, std::size_t max_message) {
  struct stat st {};
  if (::fstat(0, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
    int fd = ::fcntl(0, F_DUPFD_CLOEXEC, 3);
    if (fd >= 0) return std::make_unique<ReactorStdin>(io, fd, std::move(sink), max_message);
  }
  return read_stdin_on_thread(std::move(inbox), std::move(sink), max_message);
}

}  // namespace claribi::daemon
