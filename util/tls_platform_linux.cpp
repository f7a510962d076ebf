// The Linux (and other non-Apple POSIX) trust of util/tls_trust.hpp: a bundle file, whose
// place differs between distributions, the hashed folder the same tool keeps beside it, and
// no store (CMake picks this file).
#include "util/tls_trust.hpp"

namespace claribi::tls {

const Platform& platform() {
  // Debian and Ubuntu (update-ca-certificates), RHEL and Fedora (update-ca-trust), SUSE,
  // older RHEL (no folder), Alpine.
  static const Platform p{
      {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
       "/etc/ssl/ca-bundle.pem", "/etc/pki/tls/cacert.pem", "/etc/ssl/cert.pem"},
      nullptr,
      false,
      {"/etc/ssl/certs", "/etc/pki/ca-trust/extracted/pem/directory-hash", "/etc/ssl/certs", "",
       "/etc/ssl/certs"}};
  return p;
}

}  // namespace claribi::tls
