#pragma once

#include <chrono>
#include <string>

#include "util/result.hpp"

namespace claribi::oauth {

/// An exclusive OS file lock (flock on POSIX, LockFileEx on Windows) held while one process
/// logs in or refreshes for a server. The OS drops it when the holder exits, crashed or
/// not, so a leftover lock file never blocks anyone.
class FileLock {
 public:
  /// Waits up to `timeout` for the lock on `path` (created 0600, with its folder).
  static Result<FileLock> acquire(const std::string& path, std::chrono::milliseconds timeout);
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  FileLock() = default;
#ifdef _WIN32
  void* m_handle = nullptr;
#else
  int m_fd = -1;
#endif
};

/// Where the lock of one server lives: <state dir>/locks/<hash of the server>.lock.
std::string lock_path_for(const std::string& server);

}  // namespace claribi::oauth
