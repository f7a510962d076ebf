// this_os() on Windows (CMake compiles this file on Windows only).
#include "daemon/install.hpp"

namespace claribi::daemon {

HostOs this_os() {
  return HostOs::windows;
}

}  // namespace claribi::daemon
