#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
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

  /// Any thread. `f` runs once, on the writer's thread, when a write fails: the client closed
  /// its end (EPIPE) and nothing written from then on can reach it. `why` names the error.
  void on_broken(std::function<void(std::string why)> f);

 private:
  void run();
  /// Writes `batch`, each line followed by a newline, marking the writer broken when a write
  /// fails; per platform (stdout_writer_posix.cpp, stdout_writer_windows.cpp).
  void write_batch(std::deque<std::string>& batch);
  void mark_broken(std::string why);

  int m_fd;
  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::string> m_queue;
  bool m_closing = false;
  bool m_broken = false;
  std::function<void(std::string)> m_on_broken;
  std::thread m_thread;
};

}  // namespace claribi::daemon
