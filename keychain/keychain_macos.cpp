// macOS: generic passwords in the user's default (login) keychain through Security.framework
// (SecItemCopyMatching / SecItemAdd / SecItemUpdate / SecItemDelete), service
// "claribi-bridge", account "<server>#<kind>". Written against Apple's documented API; it
// cannot be built on the Linux machines CI uses.
#include "keychain/keychain.hpp"

#include <CoreFoundation/CoreFoundation.h>
#include <Security/Security.h>

#include <algorithm>
#include <cstring>

namespace claribi::keychain {
namespace {

template <class T>
class CFRef {
 public:
  explicit CFRef(T ref = nullptr) : m_ref(ref) {}
  ~CFRef() {
    if (m_ref != nullptr) CFRelease(m_ref);
  }
  CFRef(const CFRef&) = delete;
  CFRef& operator=(const CFRef&) = delete;
  T get() const { return m_ref; }
  T* out() { return &m_ref; }

 private:
  T m_ref;
};

CFStringRef make_string(const std::string& s) {
  return CFStringCreateWithBytes(kCFAllocatorDefault, reinterpret_cast<const UInt8*>(s.data()),
                                 static_cast<CFIndex>(s.size()), kCFStringEncodingUTF8, false);
}

std::string to_string(CFStringRef s) {
  if (s == nullptr) return {};
  CFIndex length = CFStringGetLength(s);
  CFIndex size = CFStringGetMaximumSizeForEncoding(length, kCFStringEncodingUTF8) + 1;
  std::string out(static_cast<std::size_t>(size), '\0');
  if (!CFStringGetCString(s, out.data(), size, kCFStringEncodingUTF8)) return {};
  out.resize(std::strlen(out.c_str()));
  return out;
}

Error failure(const std::string& what, OSStatus status) {
  if (status == errSecInteractionNotAllowed) {
    return Error{what +
                 ": the login keychain is locked and no password prompt can be shown (an SSH "
                 "session?). Unlock it with 'security unlock-keychain' or log in to the desktop, "
                 "or use --credential-store file"};
  }
  if (status == errSecUserCanceled || status == errSecAuthFailed) {
    return Error{what +
                 ": access was denied at the keychain prompt. Run the command again and choose "
                 "Allow (or Always Allow)"};
  }
  if (status == errSecNoDefaultKeychain) {
    return Error{what + ": there is no default keychain; create one in Keychain Access"};
  }
  CFRef<CFStringRef> message(SecCopyErrorMessageString(status, nullptr));
  return Error{what + ": " + to_string(message.get()) + " (OSStatus " + std::to_string(status) +
               ")"};
}

/// kSecClassGenericPassword, our service, and the account when given.
CFMutableDictionaryRef base_query(const std::string& account) {
  CFMutableDictionaryRef q = CFDictionaryCreateMutable(
      kCFAllocatorDefault, 0, &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
  CFDictionarySetValue(q, kSecClass, kSecClassGenericPassword);
  CFRef<CFStringRef> service(make_string(k_service));
  CFDictionarySetValue(q, kSecAttrService, service.get());
  if (!account.empty()) {
    CFRef<CFStringRef> acct(make_string(account));
    CFDictionarySetValue(q, kSecAttrAccount, acct.get());
  }
  return q;
}

class MacKeychain final : public Keychain {
 public:
  Result<std::optional<std::string>> get(const Key& key) override {
    CFRef<CFMutableDictionaryRef> q(base_query(key.account));
    CFDictionarySetValue(q.get(), kSecReturnData, kCFBooleanTrue);
    CFDictionarySetValue(q.get(), kSecMatchLimit, kSecMatchLimitOne);
    CFRef<CFTypeRef> result;
    OSStatus status = SecItemCopyMatching(q.get(), result.out());
    if (status == errSecItemNotFound) return std::optional<std::string>();
    if (status != errSecSuccess)
      return tl::unexpected(failure("could not read " + key.account, status));
    auto data = static_cast<CFDataRef>(result.get());
    return std::optional<std::string>(
        std::string(reinterpret_cast<const char*>(CFDataGetBytePtr(data)),
                    static_cast<std::size_t>(CFDataGetLength(data))));
  }

  Result<void> set(const Key& key, const std::string& secret) override {
    CFRef<CFDataRef> data(CFDataCreate(kCFAllocatorDefault,
                                       reinterpret_cast<const UInt8*>(secret.data()),
                                       static_cast<CFIndex>(secret.size())));
    for (int attempt = 0; attempt < 3; ++attempt) {
      CFRef<CFMutableDictionaryRef> q(base_query(key.account));
      CFRef<CFMutableDictionaryRef> change(
          CFDictionaryCreateMutable(kCFAllocatorDefault, 0, &kCFTypeDictionaryKeyCallBacks,
                                    &kCFTypeDictionaryValueCallBacks));
      CFDictionarySetValue(change.get(), kSecValueData, data.get());
      OSStatus status = SecItemUpdate(q.get(), change.get());
      if (status == errSecSuccess) return {};
      if (status != errSecItemNotFound) {
        return tl::unexpected(failure("could not update " + key.account, status));
      }
      CFDictionarySetValue(q.get(), kSecValueData, data.get());
      CFRef<CFStringRef> label(make_string("claribi-bridge: " + key.account));
      CFDictionarySetValue(q.get(), kSecAttrLabel, label.get());
      status = SecItemAdd(q.get(), nullptr);
      if (status == errSecSuccess) return {};
      // Another process added it between our update and our add: update again.
      if (status != errSecDuplicateItem) {
        return tl::unexpected(failure("could not store " + key.account, status));
      }
    }
    return fail("could not store " + key.account + ": another process kept changing it");
  }

  Result<void> remove(const Key& key) override {
    CFRef<CFMutableDictionaryRef> q(base_query(key.account));
    OSStatus status = SecItemDelete(q.get());
    if (status != errSecSuccess && status != errSecItemNotFound) {
      return tl::unexpected(failure("could not remove " + key.account, status));
    }
    return {};
  }

  Result<std::vector<std::string>> list(const std::string& prefix) override {
    CFRef<CFMutableDictionaryRef> q(base_query({}));
    CFDictionarySetValue(q.get(), kSecReturnAttributes, kCFBooleanTrue);
    CFDictionarySetValue(q.get(), kSecMatchLimit, kSecMatchLimitAll);
    CFRef<CFTypeRef> result;
    OSStatus status = SecItemCopyMatching(q.get(), result.out());
    std::vector<std::string> out;
    if (status == errSecItemNotFound) return out;
    if (status != errSecSuccess) {
      return tl::unexpected(failure("could not list the stored secrets", status));
    }
    auto items = static_cast<CFArrayRef>(result.get());
    for (CFIndex i = 0; i < CFArrayGetCount(items); ++i) {
      auto attrs = static_cast<CFDictionaryRef>(CFArrayGetValueAtIndex(items, i));
      auto account =
          to_string(static_cast<CFStringRef>(CFDictionaryGetValue(attrs, kSecAttrAccount)));
      if (account.compare(0, prefix.size(), prefix) == 0) out.push_back(std::move(account));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string backend_name() const override { return "macOS Keychain"; }
};

}  // namespace

Result<std::unique_ptr<Keychain>> make_platform_keychain() {
  return std::unique_ptr<Keychain>(std::make_unique<MacKeychain>());
}

}  // namespace claribi::keychain
