// The macOS trust of util/tls_trust.hpp (CMake picks this file). The SDK's libcurl verifies
// with LibreSSL against /etc/ssl/cert.pem (Apple's roots) and never asks the keychain, so
// the CAs a company installs there (in Keychain Access, or by a configuration profile) would
// be refused. Those live in the user and admin trust-settings domains: their certificates
// trusted as roots for TLS servers are added to the bundle, and those marked "Never Trust"
// are taken out of it. The system domain is Apple's roots, which the bundle already holds.
#include "util/tls_trust.hpp"

#include <map>

#include "util/cf_macos.hpp"

namespace claribi::tls {
namespace {

enum class Verdict { unspecified, trust, deny };

bool is_tls_policy(CFTypeRef policy) {
  if (policy == nullptr || CFGetTypeID(policy) != SecPolicyGetTypeID()) return false;
  cf::Ref<CFDictionaryRef> properties(
      SecPolicyCopyProperties(static_cast<SecPolicyRef>(const_cast<void*>(policy))));
  if (properties.get() == nullptr) return false;
  CFTypeRef oid = CFDictionaryGetValue(properties.get(), kSecPolicyOid);
  return oid != nullptr && CFEqual(oid, kSecPolicyAppleSSL);
}

/// What `domain`'s trust settings say of `cert` for TLS servers. The first entry that
/// applies decides, as Apple documents; an empty list means "always trust as a root".
Verdict verdict(SecCertificateRef cert, SecTrustSettingsDomain domain) {
  cf::Ref<CFArrayRef> settings;
  if (SecTrustSettingsCopyTrustSettings(cert, domain, settings.out()) != errSecSuccess ||
      settings.get() == nullptr) {
    return Verdict::unspecified;
  }
  CFIndex n = CFArrayGetCount(settings.get());
  if (n == 0) return Verdict::trust;
  for (CFIndex i = 0; i < n; ++i) {
    auto entry = static_cast<CFDictionaryRef>(CFArrayGetValueAtIndex(settings.get(), i));
    if (entry == nullptr || CFGetTypeID(entry) != CFDictionaryGetTypeID()) continue;
    CFTypeRef policy = CFDictionaryGetValue(entry, kSecTrustSettingsPolicy);
    if (policy != nullptr && !is_tls_policy(policy)) continue;  // for S/MIME, code signing...
    // Tied to one host name: trusts that site's certificate, not a CA for every site.
    if (CFDictionaryContainsKey(entry, kSecTrustSettingsPolicyString)) continue;
    // No result given: kSecTrustSettingsResultTrustRoot.
    SInt32 number = static_cast<SInt32>(kSecTrustSettingsResultTrustRoot);
    auto given = static_cast<CFNumberRef>(CFDictionaryGetValue(entry, kSecTrustSettingsResult));
    if (given != nullptr && CFGetTypeID(given) == CFNumberGetTypeID()) {
      CFNumberGetValue(given, kCFNumberSInt32Type, &number);
    }
    auto result = static_cast<SecTrustSettingsResult>(number);
    if (result == kSecTrustSettingsResultTrustRoot ||
        result == kSecTrustSettingsResultTrustAsRoot) {
      return Verdict::trust;
    }
    if (result == kSecTrustSettingsResultDeny) return Verdict::deny;
    // kSecTrustSettingsResultUnspecified: no verdict here; later entries may give one.
  }
  return Verdict::unspecified;
}

Result<OsAnchors> read_keychain() {
  // The user's settings overrule the admin's: a certificate gets the first domain's verdict.
  std::map<std::string, Verdict> decided;
  std::vector<std::string> order;
  for (SecTrustSettingsDomain domain :
       {kSecTrustSettingsDomainUser, kSecTrustSettingsDomainAdmin}) {
    cf::Ref<CFArrayRef> certs;
    OSStatus status = SecTrustSettingsCopyCertificates(domain, certs.out());
    if (status == errSecNoTrustSettings) continue;
    if (status != errSecSuccess) {
      return fail(
          std::string(domain == kSecTrustSettingsDomainUser ? "the user's" : "the admin's") +
          " trust settings: " + cf::status_text(status));
    }
    for (CFIndex i = 0; i < CFArrayGetCount(certs.get()); ++i) {
      auto cert =
          static_cast<SecCertificateRef>(const_cast<void*>(CFArrayGetValueAtIndex(certs.get(), i)));
      cf::Ref<CFDataRef> data(SecCertificateCopyData(cert));
      std::string der = cf::bytes(data.get());
      if (der.empty() || decided.count(der) != 0) continue;
      Verdict v = verdict(cert, domain);
      if (v == Verdict::unspecified) continue;
      decided.emplace(der, v);
      order.push_back(std::move(der));
    }
  }
  OsAnchors out;
  for (auto& der : order) {
    (decided.at(der) == Verdict::trust ? out.trusted : out.denied).push_back(std::move(der));
  }
  return out;
}

}  // namespace

const Platform& platform() {
  static const Platform p{{"/etc/ssl/cert.pem"}, read_keychain, false, {}};
  return p;
}

}  // namespace claribi::tls
