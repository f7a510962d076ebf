// The Linux definitions of util/platform.hpp beside platform_posix.cpp (CMake compiles this
// file on POSIX systems other than macOS).
#include "util/platform.hpp"

#include <cstdlib>  // defines __GLIBC__ where the C library is glibc
#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace claribi::platform {

std::string own_executable() {
  return real_path("/proc/self/exe");
}

#ifdef __GLIBC__
void release_free_memory() {
  malloc_trim(0);
}
#else
void release_free_memory() {}
#endif

}  // namespace claribi::platform
