// The Linux (and other non-Apple POSIX) trust of util/tls_trust.hpp: a bundle file, whose
// place differs between distributions, and no store beside it (CMake picks this file).
#include "util/tls_trust.hpp"

namespace claribi::tls {

const Platform& platform() {
  // Debian and Ubuntu, RHEL and Fedora, SUSE, older RHEL, Alpine.
  static const Platform p{
      {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
       "/etc/ssl/ca-bundle.pem", "/etc/pki/tls/cacert.pem", "/etc/ssl/cert.pem"},
      nullptr,
      false};
  return p;
}

}  // namespace claribi::tls
