// The Windows definitions of util/platform.hpp (CMake compiles this file on Windows only).
#include "util/platform.hpp"

// winsock2.h (WSAPoll) must come before windows.h.
#include <winsock2.h>

#include <fcntl.h>
#include <io.h>
#include <windows.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace claribi::platform {

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

/// InputFile keeps its HANDLE as an integer, so the header names no Windows type.
HANDLE handle_of(std::intptr_t native) {
  return reinterpret_cast<HANDLE>(native);
}

std::intptr_t native_of(HANDLE h) {
  return reinterpret_cast<std::intptr_t>(h);
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

const char* home_from_environment() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') home = std::getenv("USERPROFILE");
  return home;
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

int socket_ready(std::intptr_t socket, bool read, bool write) {
  WSAPOLLFD p{};
  p.fd = static_cast<SOCKET>(socket);
  p.events = static_cast<SHORT>((read ? POLLRDNORM : 0) | (write ? POLLWRNORM : 0));
  if (WSAPoll(&p, 1, 0) <= 0) return 0;
  int out = 0;
  if ((p.revents & (POLLRDNORM | POLLHUP | POLLERR)) != 0 && read) out |= 1;
  if ((p.revents & (POLLWRNORM | POLLERR)) != 0 && write) out |= 2;
  return out;
}

std::intptr_t open_socket(int family, int type, int protocol) {
  SOCKET s = WSASocketW(family, type, protocol, nullptr, 0,
                        WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  return s == INVALID_SOCKET ? static_cast<std::intptr_t>(-1) : static_cast<std::intptr_t>(s);
}

int close_socket(std::intptr_t socket) {
  return closesocket(static_cast<SOCKET>(socket));
}

struct HiddenInput::Saved {
  DWORD mode = 0;  ///< the console mode
};

HiddenInput::HiddenInput() : m_saved(new Saved) {
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  DWORD mode = 0;
  if (GetConsoleMode(in, &mode)) {
    m_saved->mode = mode;
    m_restore = SetConsoleMode(in, mode & ~static_cast<DWORD>(ENABLE_ECHO_INPUT)) != 0;
  }
}

HiddenInput::~HiddenInput() {
  if (m_restore) SetConsoleMode(GetStdHandle(STD_INPUT_HANDLE), m_saved->mode);
  delete m_saved;
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

InputFile::InputFile() : m_native(native_of(nullptr)) {}

bool InputFile::open(const std::string& path) {
  close();
  HANDLE h = CreateFileW(wide(path).c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                         FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_SEQUENTIAL_SCAN, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    m_error = static_cast<int>(GetLastError());
    return false;
  }
  m_native = native_of(h);
  return true;
}

Result<FileInfo> InputFile::info() const {
  return info_of(handle_of(m_native));
}

long InputFile::read(char* buffer, std::size_t size) {
  DWORD got = 0;
  if (!ReadFile(handle_of(m_native), buffer, static_cast<DWORD>(size), &got, nullptr)) {
    m_error = static_cast<int>(GetLastError());
    return -1;
  }
  return static_cast<long>(got);
}

bool InputFile::is_open() const {
  return handle_of(m_native) != nullptr;
}

void InputFile::close() {
  if (handle_of(m_native) != nullptr) CloseHandle(handle_of(m_native));
  m_native = native_of(nullptr);
}

std::string InputFile::last_error() const {
  return system_message(static_cast<DWORD>(m_error));
}

std::string last_error_text() {
  return system_message(GetLastError());
}

void release_free_memory() {}  // the Windows heap decommits on its own

}  // namespace claribi::platform
