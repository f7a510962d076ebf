#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace claribi::daemon {

/// The only code in the process that writes to stdout: whole lines from a queue, on a
/// thread of its own, so a client slow to read never stalls the io thread.
class StdoutWriter {
 public:
  /// `fd` is 1 except in tests.
  explicit StdoutWriter(int fd = 1);
  ~StdoutWriter();
  StdoutWriter(const StdoutWriter&) = delete;
  StdoutWriter& operator=(const StdoutWriter&) = delete;

  /// Any thread. Queues `line`; it is written followed by a newline. `line` must not contain
  /// a newline.
  void write_line(std::string line);

  /// Any thread. Writes what is queued, then stops the thread. Idempotent.
  void close();

  /// False once a write failed (the reader went away).
  bool healthy() const;

 private:
  void run();

  int m_fd;
  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::string> m_queue;
  bool m_closing = false;
  bool m_broken = false;
  std::thread m_thread;
};

}  // namespace claribi::daemon
