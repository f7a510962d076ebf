#include "oauth/file_lock.hpp"

#include "keychain/keychain.hpp"
#include "oauth/crypto.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#ifdef _WIN32
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#endif

namespace claribi::oauth {

std::string lock_path_for(const std::string& server) {
  static constexpr char hex[] = "0123456789abcdef";
  auto digest = sha256(server);
  std::string name;
  for (std::size_t i = 0; i < 12; ++i) {
    auto c = static_cast<unsigned char>(digest[i]);
    name.push_back(hex[c >> 4]);
    name.push_back(hex[c & 15]);
  }
  auto dir = std::filesystem::path(keychain::default_file_store_path()).parent_path() / "locks";
  return (dir / (name + ".lock")).string();
}

FileLock::FileLock(FileLock&& other) noexcept {
#ifdef _WIN32
  std::swap(m_handle, other.m_handle);
#else
  std::swap(m_fd, other.m_fd);
#endif
}

Result<FileLock> FileLock::acquire(const std::string& path, std::chrono::milliseconds timeout) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return fail("cannot create the lock folder for " + path + ": " + ec.message());
  FileLock lock;
  auto deadline = std::chrono::steady_clock::now() + timeout;
#ifdef _WIN32
  int n = MultiByteToWideChar(CP_UTF8, 0, path.c_str(), -1, nullptr, 0);
  std::wstring wide(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, path.c_str(), -1, wide.data(), n);
  HANDLE h = CreateFileW(wide.c_str(), GENERIC_READ | GENERIC_WRITE,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                         OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return fail("cannot open the lock file " + path);
  lock.m_handle = h;
  for (;;) {
    OVERLAPPED o{};
    if (LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &o)) {
      return lock;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
#else
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot open the lock file " + path + ": " + std::strerror(errno));
  lock.m_fd = fd;
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return lock;
    if (errno != EWOULDBLOCK && errno != EINTR) {
      return fail("cannot lock " + path + ": " + std::strerror(errno));
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
#endif
  return fail("another claribi-bridge has been logging in to this server for more than " +
              std::to_string(timeout.count() / 1000) + " s (lock " + path +
              "); finish or cancel that login and try again");
}

FileLock::~FileLock() {
#ifdef _WIN32
  if (m_handle != nullptr) CloseHandle(static_cast<HANDLE>(m_handle));
#else
  if (m_fd >= 0) ::close(m_fd);  // closing drops the flock
#endif
}

}  // namespace claribi::oauth
