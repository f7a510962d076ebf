#include "daemon/stdout_writer.hpp"

#include <sys/uio.h>
#include <unistd.h>
#include <cerrno>

#include <vector>

namespace claribi::daemon {

StdoutWriter::StdoutWriter(int fd) : m_fd(fd), m_thread([this] { run(); }) {}

StdoutWriter::~StdoutWriter() {
  close();
}

void StdoutWriter::write_line(std::string line) {
  line.push_back('\n');
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_closing) return;
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

void StdoutWriter::run() {
  for (;;) {
    std::deque<std::string> batch;
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_cv.wait(lock, [this] { return m_closing || !m_queue.empty(); });
      if (m_queue.empty()) return;
      batch.swap(m_queue);
    }
    // Gather the batch into as few write calls as possible.
    std::size_t i = 0;
    std::size_t offset = 0;  // bytes of batch[i] already written
    while (i < batch.size() && !m_broken) {
      std::vector<iovec> iov;
      for (std::size_t j = i; j < batch.size() && iov.size() < 64; ++j) {
        std::size_t skip = j == i ? offset : 0;
        iov.push_back(iovec{batch[j].data() + skip, batch[j].size() - skip});
      }
      ssize_t n = ::writev(m_fd, iov.data(), static_cast<int>(iov.size()));
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        std::lock_guard<std::mutex> lock(m_mutex);
        m_broken = true;
        break;
      }
      auto left = static_cast<std::size_t>(n);
      while (i < batch.size() && left > 0) {
        std::size_t rest = batch[i].size() - offset;
        if (left >= rest) {
          left -= rest;
          ++i;
          offset = 0;
        } else {
          offset += left;
          left = 0;
        }
      }
    }
  }
}

}  // namespace claribi::daemon
