#pragma once

#include <chrono>
#include <cstdint>
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
  // Per platform (file_lock_posix.cpp, file_lock_windows.cpp):
  FileLock() noexcept;  ///< holds no file
  /// Opens the lock file, creating it; the reason on failure.
  Result<void> open(const std::string& path);
  /// Takes the lock without waiting: true when taken, false while another process holds it.
  Result<bool> try_lock(const std::string& path);

  std::intptr_t m_native;  ///< the descriptor or HANDLE, as the platform's file keeps it
};

/// A file of claribi-bridge's own about one server: <state dir>/<folder>/<hash of the
/// server><extension>, the state dir being the file credential store's folder. The one rule
/// for such paths (locks, the remembered era).
std::string state_path_for(const std::string& server, const std::string& folder,
                           const std::string& extension);

/// Where the lock of one server lives: <state dir>/locks/<hash of the server>.lock.
std::string lock_path_for(const std::string& server);

}  // namespace claribi::oauth
