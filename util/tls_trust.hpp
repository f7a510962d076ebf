#pragma once

// Which certificate authorities TLS trusts: the platform's (or OpenSSL's SSL_CERT_FILE and
// SSL_CERT_DIR, when set), with the user's --ca-file added to them rather than put in
// their place, so a corporate CA file does not break every host it does not cover.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/headers.hpp"
#include "util/result.hpp"

#include <curl/curl.h>

namespace claribi::tls {

/// What every libcurl handle is told. Empty members leave libcurl's built-in default.
struct Trust {
  std::string ca_file;  ///< CURLOPT_CAINFO
  std::string ca_dir;   ///< CURLOPT_CAPATH: a hashed folder, read a certificate at a time
  std::string ca_blob;  ///< CURLOPT_CAINFO_BLOB: the platform's bundle and the user's CAs
};

/// What the OS's certificate store holds beyond any bundle file, as DER certificates.
struct OsAnchors {
  std::vector<std::string> trusted;  ///< roots trusted for TLS servers
  std::vector<std::string> denied;   ///< certificates marked as not to be trusted
};

/// How this platform's libcurl finds its trust, and what its OS store adds (tls_platform_*.cpp).
struct Platform {
  /// Candidate locations of the platform's bundle file, in order (Linux distributions keep
  /// it in different places; macOS has /etc/ssl/cert.pem; none on Windows).
  std::vector<std::string> bundles;
  /// Reads the OS store's anchors; null where there is none beside the bundle (Linux).
  std::function<Result<OsAnchors>()> os_store;
  /// true when libcurl trusts the OS store by itself as long as it is given no CA file or
  /// blob, and trusts only those when it is (Windows' Schannel): the store is then read
  /// only when something must be added to it.
  bool store_is_native = false;
  /// The folder holding the same certificates as the bundle at the same place in `bundles`,
  /// under OpenSSL's hashed names, where the distribution keeps one (empty where not). Used
  /// in its place when hashed: a handshake then reads the one or two certificates it needs,
  /// not the whole bundle.
  std::vector<std::string> folders;
};

/// This build's platform.
const Platform& platform();

/// The trust for `extra_ca_file` (--ca-file; empty: none) and the environment `env`:
/// SSL_CERT_FILE replaces the platform's trust and SSL_CERT_DIR its directory, as in
/// OpenSSL (naming the platform's own bundle and folder, they change nothing); otherwise the
/// platform's bundle (or its hashed folder) with the OS store's anchors added and its denied
/// certificates taken out. `extra_ca_file` is added to whichever is in force. Fails, naming
/// the file, when a file cannot be read or `extra_ca_file` holds no PEM certificate. A
/// failure to read the OS store is logged as a warning, and the bundle alone is used.
Result<std::shared_ptr<const Trust>> resolve(const std::string& extra_ca_file, const EnvLookup& env,
                                             const Platform& platform);

/// One PEM bundle: the certificates of `base` (PEM text) except those in `denied`, then
/// `added` (DER) and the certificates of `extra` (PEM text), each certificate once. Text
/// outside certificate blocks is dropped.
std::string compose_bundle(std::string_view base, const std::vector<std::string>& added,
                           const std::vector<std::string>& denied, std::string_view extra);

/// A DER certificate as a PEM block (64 characters a line).
std::string pem_certificate(std::string_view der);

/// Applies `trust` (null: libcurl's defaults) to an easy handle.
void apply(CURL* handle, const Trust* trust);

}  // namespace claribi::tls
