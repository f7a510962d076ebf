// The Windows trust of util/tls_trust.hpp (CMake picks this file). Schannel verifies
// against the Windows certificate store by itself, but against a CA file or blob alone once
// it is given one; so when --ca-file adds to the store, the store's roots go into the blob:
// the current user's "ROOT" store (which shows the machine's and group policy's roots too),
// less the expired ones and those whose key usage excludes TLS servers, and the "Disallowed"
// store's certificates are taken out. Roots that Windows would fetch on demand (automatic
// root update) and has not fetched yet are not in the store, so not in the blob.
#include "util/tls_trust.hpp"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
// wincrypt.h needs windows.h first.
#include <wincrypt.h>

#include <cstring>

#include "util/platform.hpp"

namespace claribi::tls {
namespace {

/// false when the certificate's enhanced key usage is given and does not include TLS server
/// authentication (no usage given: every usage).
bool serves_tls(PCCERT_CONTEXT cert) {
  DWORD size = 0;
  if (!CertGetEnhancedKeyUsage(cert, 0, nullptr, &size) || size == 0) return true;
  std::string buffer(size, '\0');
  auto* usage = reinterpret_cast<PCERT_ENHKEY_USAGE>(buffer.data());
  if (!CertGetEnhancedKeyUsage(cert, 0, usage, &size)) return true;
  if (usage->cUsageIdentifier == 0) {
    // No usage at all: CERT_TRUST_IS_NOT_VALID_FOR_USAGE says "none" here, otherwise "all".
    return GetLastError() == static_cast<DWORD>(CRYPT_E_NOT_FOUND);
  }
  for (DWORD i = 0; i < usage->cUsageIdentifier; ++i) {
    if (std::strcmp(usage->rgpszUsageIdentifier[i], szOID_PKIX_KP_SERVER_AUTH) == 0) return true;
  }
  return false;
}

/// Every certificate of the current user's system store `name`, as DER; `roots` keeps
/// only those fit to anchor a TLS server's chain.
Result<std::vector<std::string>> store_certificates(const wchar_t* name, bool roots) {
  HCERTSTORE store = CertOpenSystemStoreW(0, name);
  if (store == nullptr) return fail(platform::last_error_text());
  std::vector<std::string> out;
  PCCERT_CONTEXT cert = nullptr;
  while ((cert = CertEnumCertificatesInStore(store, cert)) != nullptr) {
    if ((cert->dwCertEncodingType & X509_ASN_ENCODING) == 0) continue;
    if (roots && (CertVerifyTimeValidity(nullptr, cert->pCertInfo) != 0 || !serves_tls(cert))) {
      continue;
    }
    out.emplace_back(reinterpret_cast<const char*>(cert->pbCertEncoded), cert->cbCertEncoded);
  }
  CertCloseStore(store, 0);
  return out;
}

Result<OsAnchors> read_store() {
  OsAnchors out;
  auto roots = store_certificates(L"ROOT", true);
  if (!roots) return fail("the ROOT certificate store: " + roots.error().message);
  out.trusted = std::move(*roots);
  auto denied = store_certificates(L"Disallowed", false);
  if (!denied) return fail("the Disallowed certificate store: " + denied.error().message);
  out.denied = std::move(*denied);
  return out;
}

}  // namespace

const Platform& platform() {
  static const Platform p{{}, read_store, true, {}};
  return p;
}

}  // namespace claribi::tls
