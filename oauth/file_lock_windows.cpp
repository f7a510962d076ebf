// FileLock on Windows: LockFileEx on the file (CMake compiles this file on Windows only).
#include "oauth/file_lock.hpp"

#include <windows.h>

namespace claribi::oauth {
namespace {

/// FileLock keeps its HANDLE as an integer, so the header names no Windows type.
HANDLE handle_of(std::intptr_t native) {
  return reinterpret_cast<HANDLE>(native);
}

std::intptr_t native_of(HANDLE h) {
  return reinterpret_cast<std::intptr_t>(h);
}

}  // namespace

FileLock::FileLock() noexcept : m_native(native_of(nullptr)) {}

Result<void> FileLock::open(const std::string& path) {
  int n = MultiByteToWideChar(CP_UTF8, 0, path.c_str(), -1, nullptr, 0);
  std::wstring wide(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, path.c_str(), -1, wide.data(), n);
  HANDLE h = CreateFileW(wide.c_str(), GENERIC_READ | GENERIC_WRITE,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                         OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return fail("cannot open the lock file " + path);
  m_native = native_of(h);
  return {};
}

Result<bool> FileLock::try_lock(const std::string& /*path*/) {
  OVERLAPPED o{};
  return LockFileEx(handle_of(m_native), LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1,
                    0, &o) != 0;
}

FileLock::~FileLock() {
  if (handle_of(m_native) != nullptr) CloseHandle(handle_of(m_native));
}

}  // namespace claribi::oauth
