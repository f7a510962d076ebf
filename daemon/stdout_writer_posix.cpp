// StdoutWriter's writes on POSIX: writev on the descriptor (CMake compiles this file
// everywhere but Windows).
#include "daemon/stdout_writer.hpp"

#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

namespace claribi::daemon {

StdoutWriter::Direct StdoutWriter::write_now(const std::string& line) {
  Direct d;
  // Up to PIPE_BUF bytes go into a pipe whole or not at all, and a pipe that polls writable
  // has a free buffer of at least that size, so this write cannot block (nor split a line).
  if (line.size() + 1 > PIPE_BUF) return d;
  pollfd p{m_fd, POLLOUT, 0};
  int ready;
  do {
    ready = ::poll(&p, 1, 0);
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0 || (p.revents & POLLOUT) == 0) {
    // No room now, or the reader left (POLLERR): the writer's thread finds out which.
    return d;
  }
  static char newline = '\n';
  iovec pieces[2] = {{const_cast<char*>(line.data()), line.size()}, {&newline, 1}};
  ssize_t n;
  do {
    n = ::writev(m_fd, pieces, 2);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return d;
    d.wrote = true;
    d.error = std::strerror(errno);
    return d;
  }
  d.wrote = true;
  d.written = static_cast<std::size_t>(n);
  return d;
}

void StdoutWriter::write_batch(std::deque<std::string>& batch) {
  // Each line goes out as two pieces, its text and a shared "\n", gathered into as few
  // writev calls as possible; appending the newline could copy a large line.
  static char newline = '\n';
  std::vector<iovec> pieces;
  pieces.reserve(batch.size() * 2);
  for (auto& line : batch) {
    pieces.push_back(iovec{line.data(), line.size()});
    pieces.push_back(iovec{&newline, 1});
  }
  std::size_t next = 0;
  while (next < pieces.size()) {
    int count = static_cast<int>(std::min<std::size_t>(pieces.size() - next, IOV_MAX));
    ssize_t n = ::writev(m_fd, &pieces[next], count);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        // The client may hand us a non-blocking stdout: wait until it drains.
        pollfd p{m_fd, POLLOUT, 0};
        ::poll(&p, 1, -1);
        continue;
      }
      mark_broken(std::strerror(errno));
      break;
    }
    auto written = static_cast<std::size_t>(n);
    while (next < pieces.size() && written >= pieces[next].iov_len) {
      written -= pieces[next].iov_len;
      ++next;
    }
    if (written > 0) {  // a piece went out in part
      pieces[next].iov_base = static_cast<char*>(pieces[next].iov_base) + written;
      pieces[next].iov_len -= written;
    }
  }
}

}  // namespace claribi::daemon
