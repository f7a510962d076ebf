// FileLock on POSIX: flock(2) on a 0600 file (CMake compiles this file everywhere but Windows).
#include "oauth/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace claribi::oauth {

FileLock::FileLock() noexcept : m_native(-1) {}

Result<void> FileLock::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot open the lock file " + path + ": " + std::strerror(errno));
  m_native = fd;
  return {};
}

Result<bool> FileLock::try_lock(const std::string& path) {
  if (::flock(static_cast<int>(m_native), LOCK_EX | LOCK_NB) == 0) return true;
  if (errno != EWOULDBLOCK && errno != EINTR) {
    return fail("cannot lock " + path + ": " + std::strerror(errno));
  }
  return false;
}

FileLock::~FileLock() {
  if (m_native >= 0) ::close(static_cast<int>(m_native));  // closing drops the flock
}

}  // namespace claribi::oauth
