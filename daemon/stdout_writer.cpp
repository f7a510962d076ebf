#include "daemon/stdout_writer.hpp"

#include <utility>

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
    write_batch(batch);
  }
}

}  // namespace claribi::daemon
