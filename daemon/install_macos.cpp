// this_os() on macOS (CMake compiles this file on macOS only).
#include "daemon/install.hpp"

namespace claribi::daemon {

HostOs this_os() {
  return HostOs::macos;
}

}  // namespace claribi::daemon
