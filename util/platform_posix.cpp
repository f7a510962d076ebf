// The POSIX definitions of util/platform.hpp shared by Linux and macOS (CMake compiles this
// file beside platform_linux.cpp or platform_macos.cpp, never on Windows).
#include "util/platform.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace claribi::platform {

namespace {

/// InputFile keeps its descriptor as an integer wide enough for a Windows HANDLE too.
int fd_of(std::intptr_t native) {
  return static_cast<int>(native);
}

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

const char* home_from_environment() {
  return std::getenv("HOME");
}

std::tm utc_time(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return tm;
}

std::string last_error_text() {
  return std::strerror(errno);
}

Result<void> replace_file(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) return fail(std::strerror(errno));
  return {};
}

bool stdin_is_terminal() {
  return ::isatty(0) != 0;
}

int socket_ready(std::intptr_t socket, bool read, bool write) {
  pollfd p{static_cast<int>(socket),
           static_cast<short>((read ? POLLIN : 0) | (write ? POLLOUT : 0)), 0};
  if (::poll(&p, 1, 0) <= 0) return 0;
  int out = 0;
  if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0 && read) out |= 1;
  if ((p.revents & (POLLOUT | POLLERR)) != 0 && write) out |= 2;
  return out;
}

std::intptr_t open_socket(int family, int type, int protocol) {
#ifdef SOCK_CLOEXEC
  return ::socket(family, type | SOCK_CLOEXEC, protocol);
#else
  int fd = ::socket(family, type, protocol);
  if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
#endif
}

int close_socket(std::intptr_t socket) {
  return ::close(static_cast<int>(socket));
}

struct HiddenInput::Saved {
  termios mode{};
};

HiddenInput::HiddenInput() : m_saved(new Saved) {
  if (::tcgetattr(0, &m_saved->mode) != 0) return;
  termios quiet = m_saved->mode;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  m_restore = ::tcsetattr(0, TCSAFLUSH, &quiet) == 0;
}

HiddenInput::~HiddenInput() {
  if (m_restore) ::tcsetattr(0, TCSAFLUSH, &m_saved->mode);
  delete m_saved;
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

InputFile::InputFile() : m_native(-1) {}

bool InputFile::open(const std::string& path) {
  close();
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  m_native = fd;
  if (fd < 0) m_error = errno;
  return fd >= 0;
}

Result<FileInfo> InputFile::info() const {
  struct stat st {};
  if (::fstat(fd_of(m_native), &st) != 0) return fail(std::strerror(errno));
  return info_of(st);
}

long InputFile::read(char* buffer, std::size_t size) {
  for (;;) {
    ssize_t n = ::read(fd_of(m_native), buffer, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) m_error = errno;
    return static_cast<long>(n);
  }
}

bool InputFile::is_open() const {
  return m_native >= 0;
}

void InputFile::close() {
  if (m_native >= 0) ::close(fd_of(m_native));
  m_native = -1;
}

std::string InputFile::last_error() const {
  return std::strerror(m_error);
}

}  // namespace claribi::platform
