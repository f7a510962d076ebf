#include "daemon/stdout_writer.hpp"

#include <algorithm>
#include <utility>

namespace claribi::daemon {

StdoutWriter::StdoutWriter(int fd) : m_fd(fd) {}

StdoutWriter::~StdoutWriter() {
  close();
}

void StdoutWriter::write_line(std::string line) {
  std::string error;
  bool backed_up = false;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_closing || m_broken) return;
    // At once only when nothing written earlier is still on its way: the order holds.
    if (m_queue.empty() && !m_writing) {
      Direct d = write_now(line);
      if (d.wrote && d.error.empty()) {
        ++m_direct;
        if (d.written == line.size() + 1) return;
        // Written in part (a terminal or a file can do that): the rest goes through the queue.
        line.erase(0, std::min(d.written, line.size()));
      }
      error = std::move(d.error);
    }
    if (error.empty()) {
      backed_up = enqueue(std::move(line));
      // The thread starts with the first line that has to wait: a client that keeps up
      // with short answers never needs it.
      if (!m_thread.joinable()) m_thread = std::thread([this] { run(); });
    }
  }
  if (!error.empty()) {
    mark_broken(std::move(error));
    return;
  }
  m_cv.notify_one();
  if (backed_up) tell_flow(true);
}

bool StdoutWriter::enqueue(std::string&& line) {
  m_queued_bytes += line.size() + 1;
  m_queue.push_back(std::move(line));
  if (m_backed_up || m_queued_bytes <= k_backed_up) return false;
  m_backed_up = true;
  return true;
}

void StdoutWriter::on_flow(std::function<void(bool)> f) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_on_flow = std::move(f);
}

void StdoutWriter::tell_flow(bool backed_up) {
  std::function<void(bool)> tell;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    tell = m_on_flow;
  }
  if (tell) tell(backed_up);
}

void StdoutWriter::close() {
  std::thread thread;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_closing = true;
    thread = std::move(m_thread);
  }
  m_cv.notify_one();
  if (thread.joinable()) thread.join();
}

std::size_t StdoutWriter::direct_writes() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_direct;
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
    m_queued_bytes = 0;
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
      m_writing = true;
    }
    write_batch(batch);
    std::size_t bytes = 0;
    for (const auto& line : batch) bytes += line.size() + 1;
    bool drained = false;
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_writing = false;
      m_queued_bytes -= std::min(bytes, m_queued_bytes);
      if (m_backed_up && m_queued_bytes <= k_backed_up / 4) {
        m_backed_up = false;
        drained = true;
      }
    }
    if (drained) tell_flow(false);
  }
}

}  // namespace claribi::daemon
