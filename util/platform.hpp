#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>

#include "util/result.hpp"

/// The few operating-system calls that differ between POSIX and Windows, so the rest of the
/// code has one spelling. Defined per platform (CMake picks the files): platform_posix.cpp
/// with platform_linux.cpp or platform_macos.cpp, or platform_windows.cpp.
namespace claribi::platform {

/// Reads from standard input: the byte count, 0 at its end, -1 on an error.
long read_stdin(char* buffer, std::size_t size);

/// Standard input and output carry bytes untranslated (Windows would write "\r\n"), and a
/// reader that went away is an error to handle, not a signal that ends the process.
void prepare_stdio();

/// The user's home folder as the environment names it: $HOME, or on Windows %USERPROFILE%
/// when HOME is unset or empty. Null when unset.
const char* home_from_environment();

/// Broken-down UTC time (gmtime_r, gmtime_s).
std::tm utc_time(std::time_t t);

/// Whether standard input is a terminal (a console on Windows).
bool stdin_is_terminal();

/// While it lives, what is typed at the terminal is not echoed (a secret being entered).
class HiddenInput {
 public:
  HiddenInput();
  ~HiddenInput();
  HiddenInput(const HiddenInput&) = delete;
  HiddenInput& operator=(const HiddenInput&) = delete;

 private:
  struct Saved;  ///< the terminal settings (termios) or the console mode, per platform
  Saved* m_saved = nullptr;
  bool m_restore = false;
};

/// Puts `from` in place of `to` in one step (rename(2); MoveFileExW replacing on Windows,
/// where rename refuses an existing target). Returns the reason on failure.
Result<void> replace_file(const std::string& from, const std::string& to);

/// Gives heap pages freed since the last call back to the system (glibc keeps freed pages
/// inside its arenas resident otherwise, so memory stays at a burst's high-water mark).
/// Cheap: a walk over the arenas. Nothing where the allocator returns memory by itself.
void release_free_memory();

/// The running executable's absolute path, links resolved; empty when unknown.
std::string own_executable();

/// Which of reading and writing a socket would do now without waiting (a zero-timeout
/// poll; WSAPoll on Windows): bit 1 readable (or closed, or in error), bit 2 writable.
/// `socket` is a descriptor or a SOCKET.
int socket_ready(std::intptr_t socket, bool read, bool write);

/// A new socket, not inherited by programs the process starts (socket(2) with close-on-exec;
/// a non-inheritable socket on Windows). -1 (INVALID_SOCKET) on failure.
std::intptr_t open_socket(int family, int type, int protocol);

/// Closes a socket (close; closesocket on Windows). 0 on success.
int close_socket(std::intptr_t socket);

/// What a path names, after following links.
struct FileInfo {
  enum class Kind { regular, directory, fifo, device, other } kind = Kind::other;
  std::uint64_t size = 0;
  std::uint64_t device = 0;  ///< st_dev, or the volume serial number
  std::uint64_t inode = 0;   ///< st_ino, or the file index
  std::uint64_t links = 1;   ///< hard links to the file (st_nlink, nNumberOfLinks)
};
Result<FileInfo> file_info(const std::string& path);

/// The absolute path with every link resolved, '/' as separator; empty when it does not
/// exist (errno tells why).
std::string real_path(const std::string& path);

/// The OS's text for the calling thread's last error (errno; on Windows GetLastError()).
std::string last_error_text();

/// A file opened for reading without following a link in its last component (POSIX
/// O_NOFOLLOW; on Windows the reparse point itself), non-blocking so a FIFO swapped in cannot
/// hang the reader.
class InputFile {
 public:
  InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile() { close(); }
  /// Opens `path`; false on failure.
  bool open(const std::string& path);
  /// The identity and kind of the open file.
  Result<FileInfo> info() const;
  /// Bytes read, 0 at the end, -1 on an error (errno or the Windows error code in `error`).
  long read(char* buffer, std::size_t size);
  bool is_open() const;
  void close();
  std::string last_error() const;

 private:
  std::intptr_t m_native;  ///< the descriptor or HANDLE; set by the constructor to "none"
  int m_error = 0;
};

}  // namespace claribi::platform
