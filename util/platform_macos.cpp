// The macOS definitions of util/platform.hpp beside platform_posix.cpp (CMake compiles this
// file on macOS only).
#include "util/platform.hpp"

#include <mach-o/dyld.h>

#include <climits>
#include <cstdint>

namespace claribi::platform {

std::string own_executable() {
  char raw[PATH_MAX];
  std::uint32_t size = sizeof raw;
  if (_NSGetExecutablePath(raw, &size) != 0) return {};
  return real_path(raw);
}

void release_free_memory() {}  // macOS's allocator returns freed pages by itself

}  // namespace claribi::platform
