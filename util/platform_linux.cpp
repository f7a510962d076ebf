// The Linux definitions of util/platform.hpp beside platform_posix.cpp (CMake compiles this
// file on POSIX systems other than macOS).
#include "util/platform.hpp"

#include <cstdlib>  // defines __GLIBC__ where the C library is glibc
#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace claribi::platform {

const std::vector<std::string>& ca_bundle_locations() {
  // Debian and Ubuntu, RHEL and Fedora, SUSE, older RHEL, Alpine.
  static const std::vector<std::string> paths = {
      "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
      "/etc/ssl/ca-bundle.pem", "/etc/pki/tls/cacert.pem", "/etc/ssl/cert.pem"};
  return paths;
}

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
