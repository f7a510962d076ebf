// StdoutWriter's writes on Windows: WriteFile on the standard handle (CMake compiles this file
// on Windows only).
#include "daemon/stdout_writer.hpp"

#include <windows.h>

#include <algorithm>

namespace claribi::daemon {

StdoutWriter::Direct StdoutWriter::write_now(const std::string&) {
  // A console or pipe handle has no zero-wait "room for this line?" check: always queue.
  return {};
}

void StdoutWriter::write_batch(std::deque<std::string>& batch) {
  // One WriteFile per batch (Windows has no writev); a failed write means the client left.
  std::string out;
  for (auto& line : batch) {
    out += line;
    out += '\n';
  }
  HANDLE h = m_fd == 1 ? GetStdHandle(STD_OUTPUT_HANDLE) : GetStdHandle(STD_ERROR_HANDLE);
  std::size_t done = 0;
  while (done < out.size()) {
    DWORD wrote = 0;
    auto chunk = static_cast<DWORD>(std::min<std::size_t>(out.size() - done, 1u << 20));
    if (!WriteFile(h, out.data() + done, chunk, &wrote, nullptr)) {
      mark_broken("WriteFile error " + std::to_string(GetLastError()));
      break;
    }
    done += wrote;
  }
}

}  // namespace claribi::daemon
