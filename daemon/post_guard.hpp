#pragma once

// Lets other threads (the stdin reader, keychain and login helpers) post work to the io
// thread only while its owner is alive: the owner closes the guard before it goes, and a
// post after that is dropped. Shared by the threads through a std::shared_ptr.

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <memory>
#include <mutex>
#include <utility>

namespace claribi::daemon {

class PostGuard {
 public:
  explicit PostGuard(asio::io_context& io) : m_io(io) {}

  static std::shared_ptr<PostGuard> make(asio::io_context& io) {
    return std::make_shared<PostGuard>(io);
  }

  /// Posts `f` to the io thread, unless the guard is closed.
  template <class F>
  void post(F&& f) {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_open) asio::post(m_io, std::forward<F>(f));
  }

  /// From now on nothing is posted (called by the owner before it goes away).
  void close() {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_open = false;
  }

 private:
  std::mutex m_mutex;
  asio::io_context& m_io;
  bool m_open = true;
};

}  // namespace claribi::daemon
