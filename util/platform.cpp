#include "util/platform.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#include <windows.h>

#include <filesystem>
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <mach-o/dyld.h>
#endif

#include <climits>
#include <csignal>
#include <cstdlib>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#endif

namespace claribi::platform {

#ifdef _WIN32

namespace {

std::wstring wide(const std::string& utf8) {
  if (utf8.empty()) return {};
  int n = MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

std::string system_message(DWORD code) {
  char* text = nullptr;
  FormatMessageA(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, code, 0, reinterpret_cast<char*>(&text), 0, nullptr);
  std::string out = text != nullptr ? text : "Windows error " + std::to_string(code);
  if (text != nullptr) LocalFree(text);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == '.')) {
    out.pop_back();
  }
  return out;
}

Result<FileInfo> info_of(HANDLE h) {
  BY_HANDLE_FILE_INFORMATION i{};
  if (!GetFileInformationByHandle(h, &i)) return fail(system_message(GetLastError()));
  FileInfo out;
  const DWORD type = GetFileType(h);
  if (type == FILE_TYPE_PIPE) {
    out.kind = FileInfo::Kind::fifo;
  } else if (type == FILE_TYPE_CHAR) {
    out.kind = FileInfo::Kind::device;
  } else if (i.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
    out.kind = FileInfo::Kind::directory;
  } else if (i.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
    out.kind = FileInfo::Kind::other;
  } else {
    out.kind = FileInfo::Kind::regular;
  }
  out.size = (static_cast<std::uint64_t>(i.nFileSizeHigh) << 32) | i.nFileSizeLow;
  out.device = i.dwVolumeSerialNumber;
  out.inode = (static_cast<std::uint64_t>(i.nFileIndexHigh) << 32) | i.nFileIndexLow;
  out.links = i.nNumberOfLinks;
  return out;
}

}  // namespace

long read_stdin(char* buffer, std::size_t size) {
  DWORD got = 0;
  if (!ReadFile(GetStdHandle(STD_INPUT_HANDLE), buffer, static_cast<DWORD>(size), &got, nullptr)) {
    // The writer closed its end: the end of input, as on POSIX.
    return GetLastError() == ERROR_BROKEN_PIPE ? 0 : -1;
  }
  return static_cast<long>(got);
}

void prepare_stdio() {
  _setmode(_fileno(stdin), _O_BINARY);
  _setmode(_fileno(stdout), _O_BINARY);
}

std::tm utc_time(std::time_t t) {
  std::tm tm{};
  gmtime_s(&tm, &t);
  return tm;
}

Result<void> replace_file(const std::string& from, const std::string& to) {
  if (!MoveFileExW(wide(from).c_str(), wide(to).c_str(),
                   MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    return fail(system_message(GetLastError()));
  }
  return {};
}

bool stdin_is_terminal() {
  DWORD mode = 0;
  return GetConsoleMode(GetStdHandle(STD_INPUT_HANDLE), &mode) != 0;
}

HiddenInput::HiddenInput() {
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  DWORD mode = 0;
  if (GetConsoleMode(in, &mode)) {
    m_saved = mode;
    m_restore = SetConsoleMode(in, mode & ~static_cast<DWORD>(ENABLE_ECHO_INPUT)) != 0;
  }
}

HiddenInput::~HiddenInput() {
  if (m_restore) SetConsoleMode(GetStdHandle(STD_INPUT_HANDLE), static_cast<DWORD>(m_saved));
}

std::string own_executable() {
  std::wstring buf(32768, L'\0');
  DWORD n = GetModuleFileNameW(nullptr, buf.data(), static_cast<DWORD>(buf.size()));
  if (n == 0 || n >= buf.size()) return {};
  int len = WideCharToMultiByte(CP_UTF8, 0, buf.data(), static_cast<int>(n), nullptr, 0, nullptr,
                                nullptr);
  std::string out(static_cast<std::size_t>(len), '\0');
  WideCharToMultiByte(CP_UTF8, 0, buf.data(), static_cast<int>(n), out.data(), len, nullptr,
                      nullptr);
  return out;
}

Result<FileInfo> file_info(const std::string& path) {
  HANDLE h =
      CreateFileW(wide(path).c_str(), 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                  nullptr, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  if (h == INVALID_HANDLE_VALUE) return fail(system_message(GetLastError()));
  auto out = info_of(h);
  CloseHandle(h);
  return out;
}

std::string real_path(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::canonical(std::filesystem::u8path(path), ec);
  if (ec) {
    errno = ENOENT;
    return {};
  }
  auto s = p.generic_u8string();
  return std::string(s.begin(), s.end());
}

bool InputFile::open(const std::string& path) {
  close();
  HANDLE h = CreateFileW(wide(path).c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                         FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_SEQUENTIAL_SCAN, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    m_error = static_cast<int>(GetLastError());
    return false;
  }
  m_handle = h;
  return true;
}

Result<FileInfo> InputFile::info() const {
  return info_of(static_cast<HANDLE>(m_handle));
}

long InputFile::read(char* buffer, std::size_t size) {
  DWORD got = 0;
  if (!ReadFile(static_cast<HANDLE>(m_handle), buffer, static_cast<DWORD>(size), &got, nullptr)) {
    m_error = static_cast<int>(GetLastError());
    return -1;
  }
  return static_cast<long>(got);
}

bool InputFile::is_open() const {
  return m_handle != nullptr;
}

void InputFile::close() {
  if (m_handle != nullptr) CloseHandle(static_cast<HANDLE>(m_handle));
  m_handle = nullptr;
}

std::string InputFile::last_error() const {
  return system_message(static_cast<DWORD>(m_error));
}

void release_free_memory() {}  // the Windows heap decommits on its own

#else

namespace {

FileInfo info_of(const struct stat& st) {
  FileInfo out;
  if (S_ISREG(st.st_mode)) {
    out.kind = FileInfo::Kind::regular;
  } else if (S_ISDIR(st.st_mode)) {
    out.kind = FileInfo::Kind::directory;
  } else if (S_ISFIFO(st.st_mode)) {
    out.kind = FileInfo::Kind::fifo;
  } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    out.kind = FileInfo::Kind::device;
  }
  out.size = static_cast<std::uint64_t>(st.st_size);
  out.device = static_cast<std::uint64_t>(st.st_dev);
  out.inode = static_cast<std::uint64_t>(st.st_ino);
  out.links = static_cast<std::uint64_t>(st.st_nlink);
  return out;
}

}  // namespace

long read_stdin(char* buffer, std::size_t size) {
  for (;;) {
    ssize_t n = ::read(0, buffer, size);
    if (n < 0 && errno == EINTR) continue;
    return static_cast<long>(n);
  }
}

void prepare_stdio() {
  std::signal(SIGPIPE, SIG_IGN);
}

std::tm utc_time(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return tm;
}

Result<void> replace_file(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) return fail(std::strerror(errno));
  return {};
}

bool stdin_is_terminal() {
  return ::isatty(0) != 0;
}

struct HiddenInput::Saved {
  termios mode{};
};

HiddenInput::HiddenInput() : m_termios(new Saved) {
  if (::tcgetattr(0, &m_termios->mode) != 0) return;
  termios quiet = m_termios->mode;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  m_restore = ::tcsetattr(0, TCSAFLUSH, &quiet) == 0;
}

HiddenInput::~HiddenInput() {
  if (m_restore) ::tcsetattr(0, TCSAFLUSH, &m_termios->mode);
  delete m_termios;
}

std::string own_executable() {
#if defined(__APPLE__)
  char raw[PATH_MAX];
  std::uint32_t size = sizeof raw;
  if (_NSGetExecutablePath(raw, &size) != 0) return {};
  return real_path(raw);
#else
  return real_path("/proc/self/exe");
#endif
}

Result<FileInfo> file_info(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fail(std::strerror(errno));
  return info_of(st);
}

std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return {};
  return buf;
}

bool InputFile::open(const std::string& path) {
  close();
  m_fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (m_fd < 0) m_error = errno;
  return m_fd >= 0;
}

Result<FileInfo> InputFile::info() const {
  struct stat st {};
  if (::fstat(m_fd, &st) != 0) return fail(std::strerror(errno));
  return info_of(st);
}

long InputFile::read(char* buffer, std::size_t size) {
  for (;;) {
    ssize_t n = ::read(m_fd, buffer, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) m_error = errno;
    return static_cast<long>(n);
  }
}

bool InputFile::is_open() const {
  return m_fd >= 0;
}

void InputFile::close() {
  if (m_fd >= 0) ::close(m_fd);
  m_fd = -1;
}

std::string InputFile::last_error() const {
  return std::strerror(m_error);
}

#ifdef __GLIBC__
void release_free_memory() {
  malloc_trim(0);
}
#else
void release_free_memory() {}
#endif
#endif

}  // namespace claribi::platform
