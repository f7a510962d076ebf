// macOS: generic passwords in the user's default (login) keychain through Security.framework
// (SecItemCopyMatching / SecItemAdd / SecItemUpdate / SecItemDelete), service
// "claribi-bridge", account "<server>#<kind>". Only the SecItem calls and their errors are
// here: listing and the update-or-add race are os_store.cpp's, the Core Foundation helpers
// util/cf_macos.hpp's. Built and run by the macOS job of .github/workflows/platforms.yml.
#include "keychain/keychain.hpp"

#include "keychain/os_store.hpp"
#include "util/cf_macos.hpp"

namespace claribi::keychain {
namespace {

using cf::Ref;

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
  return Error{what + ": " + cf::status_text(status)};
}

/// kSecClassGenericPassword, our service, and the account when given.
CFMutableDictionaryRef base_query(const std::string& account) {
  CFMutableDictionaryRef q = CFDictionaryCreateMutable(
      kCFAllocatorDefault, 0, &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
  CFDictionarySetValue(q, kSecClass, kSecClassGenericPassword);
  Ref<CFStringRef> service(cf::make_string(k_service));
  CFDictionarySetValue(q, kSecAttrService, service.get());
  if (!account.empty()) {
    Ref<CFStringRef> acct(cf::make_string(account));
    CFDictionarySetValue(q, kSecAttrAccount, acct.get());
  }
  return q;
}

class MacKeychain final : public Keychain {
 public:
  Result<std::optional<std::string>> get(const Key& key) override {
    Ref<CFMutableDictionaryRef> q(base_query(key.account));
    CFDictionarySetValue(q.get(), kSecReturnData, kCFBooleanTrue);
    CFDictionarySetValue(q.get(), kSecMatchLimit, kSecMatchLimitOne);
    Ref<CFTypeRef> result;
    OSStatus status = SecItemCopyMatching(q.get(), result.out());
    if (status == errSecItemNotFound) return std::optional<std::string>();
    if (status != errSecSuccess)
      return tl::unexpected(failure("could not read " + key.account, status));
    return std::optional<std::string>(cf::bytes(static_cast<CFDataRef>(result.get())));
  }

  Result<void> set(const Key& key, const std::string& secret) override {
    Ref<CFDataRef> data(CFDataCreate(kCFAllocatorDefault,
                                     reinterpret_cast<const UInt8*>(secret.data()),
                                     static_cast<CFIndex>(secret.size())));
    auto update = [&]() -> Result<Write> {
      Ref<CFMutableDictionaryRef> q(base_query(key.account));
      Ref<CFMutableDictionaryRef> change(
          CFDictionaryCreateMutable(kCFAllocatorDefault, 0, &kCFTypeDictionaryKeyCallBacks,
                                    &kCFTypeDictionaryValueCallBacks));
      CFDictionarySetValue(change.get(), kSecValueData, data.get());
      OSStatus status = SecItemUpdate(q.get(), change.get());
      if (status == errSecSuccess) return Write::done;
      if (status == errSecItemNotFound) return Write::absent;
      return tl::unexpected(failure("could not update " + key.account, status));
    };
    auto add = [&]() -> Result<Write> {
      Ref<CFMutableDictionaryRef> q(base_query(key.account));
      CFDictionarySetValue(q.get(), kSecValueData, data.get());
      Ref<CFStringRef> label(cf::make_string("claribi-bridge: " + key.account));
      CFDictionarySetValue(q.get(), kSecAttrLabel, label.get());
      OSStatus status = SecItemAdd(q.get(), nullptr);
      if (status == errSecSuccess) return Write::done;
      if (status == errSecDuplicateItem) return Write::exists;
      return tl::unexpected(failure("could not store " + key.account, status));
    };
    return update_or_add(update, add, key.account);
  }

  Result<void> remove(const Key& key) override {
    Ref<CFMutableDictionaryRef> q(base_query(key.account));
    OSStatus status = SecItemDelete(q.get());
    if (status != errSecSuccess && status != errSecItemNotFound) {
      return tl::unexpected(failure("could not remove " + key.account, status));
    }
    return {};
  }

  Result<std::vector<std::string>> list(const std::string& prefix) override {
    Ref<CFMutableDictionaryRef> q(base_query({}));
    CFDictionarySetValue(q.get(), kSecReturnAttributes, kCFBooleanTrue);
    CFDictionarySetValue(q.get(), kSecMatchLimit, kSecMatchLimitAll);
    Ref<CFTypeRef> result;
    OSStatus status = SecItemCopyMatching(q.get(), result.out());
    std::vector<std::string> all;
    if (status == errSecItemNotFound) return all;
    if (status != errSecSuccess) {
      return tl::unexpected(failure("could not list the stored secrets", status));
    }
    auto items = static_cast<CFArrayRef>(result.get());
    for (CFIndex i = 0; i < CFArrayGetCount(items); ++i) {
      auto attrs = static_cast<CFDictionaryRef>(CFArrayGetValueAtIndex(items, i));
      all.push_back(
          cf::to_string(static_cast<CFStringRef>(CFDictionaryGetValue(attrs, kSecAttrAccount))));
    }
    return with_prefix(std::move(all), prefix);
  }

  std::string backend_name() const override { return "macOS Keychain"; }
};

}  // namespace

Result<std::unique_ptr<Keychain>> make_platform_keychain() {
  return std::unique_ptr<Keychain>(std::make_unique<MacKeychain>());
}

}  // namespace claribi::keychain
