#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace claribi::daemon {

/// The only code in the process that writes to stdout. A short line goes out at once, on the
/// caller's thread, when nothing is queued and the pipe has room for it whole (POSIX); any
/// other line is queued and written by a thread of its own, so a client slow to read never
/// stalls the io thread; the thread starts with the first line that has to wait. Lines keep
/// their order either way.
class StdoutWriter {
 public:
  /// `fd` is 1 except in tests.
  explicit StdoutWriter(int fd = 1);
  ~StdoutWriter();
  StdoutWriter(const StdoutWriter&) = delete;
  StdoutWriter& operator=(const StdoutWriter&) = delete;

  /// Any thread. Writes `line` followed by a newline, now if that cannot block, else later
  /// from the queue. `line` must not contain a newline.
  void write_line(std::string line);

  /// Any thread. Writes what is queued, then stops the thread. Idempotent.
  void close();

  /// False once a write failed (the reader went away).
  bool healthy() const;

  /// How many lines went out on the caller's thread, without the queue.
  std::size_t direct_writes() const;

  /// Any thread. `f` runs once, on the writer's thread, when a write fails: the client closed
  /// its end (EPIPE) and nothing written from then on can reach it. `why` names the error.
  void on_broken(std::function<void(std::string why)> f);

  /// Any thread. `f(true)` runs when the lines waiting for a client slower than the remote
  /// pass `k_backed_up` bytes, `f(false)` when they are down to a quarter of that again; on
  /// whichever thread moved them. What reads the remote holds off meanwhile.
  void on_flow(std::function<void(bool backed_up)> f);
  static constexpr std::size_t k_backed_up = 1024 * 1024;

 private:
  void run();
  /// Writes `batch`, each line followed by a newline, marking the writer broken when a write
  /// fails; per platform (stdout_writer_posix.cpp, stdout_writer_windows.cpp).
  void write_batch(std::deque<std::string>& batch);
  /// What writing a line at once did.
  struct Direct {
    std::size_t written = 0;  ///< bytes of the line and its newline that went out
    bool wrote = false;       ///< false: not tried (it could block); queue the whole line
    std::string error;        ///< set when the write failed: the reader went away
  };
  /// Writes `line` and a newline if the descriptor takes them without blocking: a line that
  /// fits an atomic pipe write, and a poll that says there is room. Never on Windows
  /// (stdout_writer_posix.cpp, stdout_writer_windows.cpp). Called with m_mutex held.
  Direct write_now(const std::string& line);
  void mark_broken(std::string why);
  /// With m_mutex held: queues `line`, counting its bytes; true when that backed the queue up.
  bool enqueue(std::string&& line);
  /// Tells the flow callback, without m_mutex held.
  void tell_flow(bool backed_up);

  int m_fd;
  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::string> m_queue;
  std::size_t m_queued_bytes = 0;  ///< of m_queue and the batch being written
  bool m_backed_up = false;
  std::function<void(bool)> m_on_flow;
  bool m_closing = false;
  bool m_broken = false;
  bool m_writing = false;  ///< the thread is writing a batch outside the lock
  std::size_t m_direct = 0;
  std::function<void(std::string)> m_on_broken;
  std::thread m_thread;
};

}  // namespace claribi::daemon
