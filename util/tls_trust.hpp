#pragma once

// Which certificate authorities TLS trusts: the platform's (or OpenSSL's SSL_CERT_FILE and
// SSL_CERT_DIR, when set), with the user's --ca-file added to them rather than put in
// their place, so a corporate CA file does not break every host it does not cover.

#include <memory>
#include <string>
#include <vector>

#include "util/headers.hpp"
#include "util/result.hpp"

#include <curl/curl.h>

namespace claribi::tls {

/// What every libcurl handle is told. Empty members leave libcurl's built-in default.
struct Trust {
  std::string ca_file;  ///< CURLOPT_CAINFO
  std::string ca_dir;   ///< CURLOPT_CAPATH
  std::string ca_blob;  ///< CURLOPT_CAINFO_BLOB: the platform's bundle and the user's CAs
};

/// The trust for `extra_ca_file` (--ca-file; empty: none) and the environment `env`:
/// SSL_CERT_FILE replaces the platform's bundle and SSL_CERT_DIR its directory, as in
/// OpenSSL; `extra_ca_file` is added to whichever bundle is in force. `bundles` are the
/// candidate locations of the platform's bundle, in order (platform::ca_bundle_locations;
/// none on macOS and Windows, where `extra_ca_file` alone is given to libcurl). Fails, naming the
/// file, when a file cannot be read or `extra_ca_file` holds no PEM certificate.
Result<std::shared_ptr<const Trust>> resolve(const std::string& extra_ca_file, const EnvLookup& env,
                                             const std::vector<std::string>& bundles);

/// Applies `trust` (null: libcurl's defaults) to an easy handle.
void apply(CURL* handle, const Trust* trust);

}  // namespace claribi::tls
