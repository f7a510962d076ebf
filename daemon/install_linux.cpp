// this_os() on Linux (CMake compiles this file on POSIX systems other than macOS).
#include "daemon/install.hpp"

namespace claribi::daemon {

HostOs this_os() {
  return HostOs::linux_os;
}

}  // namespace claribi::daemon
