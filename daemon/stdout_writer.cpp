#include "daemon/stdout_writer.hpp"

#ifdef _WIN32
#include <windows.h>
#else
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>
#endif
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include <vector>

namespace claribi::daemon {

StdoutWriter::StdoutWriter(int fd) : m_fd(fd), m_thread([this] { run(); }) {}

StdoutWriter::~StdoutWriter() {
  close();
}

void StdoutWriter::write_line(std::string line) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_closing || m_broken) return;
    m_queue.push_back(std::move(line));
  }
  m_cv.notify_one();
}

void StdoutWriter::close() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_closing = true;
  }
  m_cv.notify_one();
  if (m_thread.joinable()) m_thread.join();
}

bool StdoutWriter::healthy() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return !m_broken;
}

void StdoutWriter::on_broken(std::function<void(std::string)> f) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_on_broken = std::move(f);
}

void StdoutWriter::mark_broken(std::string why) {
  std::function<void(std::string)> tell;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_broken) return;
    m_broken = true;
    m_queue.clear();
    tell = std::move(m_on_broken);
  }
  if (tell) tell(std::move(why));
}

void StdoutWriter::run() {
  for (;;) {
    std::deque<std::string> batch;
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_cv.wait(lock, [this] { return m_closing || !m_queue.empty(); });
      if (m_queue.empty()) return;
      batch.swap(m_queue);
      if (m_broken) continue;  // nobody reads any more
    }
#ifdef _WIN32
    // One WriteFile per batch (Windows has no writev); a failed write means the client left.
    std::string out;
    for (auto& line : batch) {
      out += line;
      out += '\n';
    }
    HANDLE h = m_fd == 1 ? GetStdHandle(STD_OUTPUT_HANDLE) : GetStdHandle(STD_ERROR_HANDLE);
    std::size_t done = 0;
    while (done < out.size()) {
      DWORD wrote = 0;
      auto chunk = static_cast<DWORD>(std::min<std::size_t>(out.size() - done, 1u << 20));
      if (!WriteFile(h, out.data() + done, chunk, &wrote, nullptr)) {
        mark_broken("WriteFile error " + std::to_string(GetLastError()));
        break;
      }
      done += wrote;
    }
#else
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
#endif
  }
}

}  // namespace claribi::daemon
