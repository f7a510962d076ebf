#pragma once

// Core Foundation helpers the macOS files share (the keychain's SecItem calls and TLS
// trust's trust settings): an owning reference, and UTF-8 strings both ways. macOS only.

#include <CoreFoundation/CoreFoundation.h>
#include <Security/Security.h>

#include <cstring>
#include <string>

namespace claribi::cf {

/// Owns one Core Foundation reference from a Copy or Create call, released at scope end.
template <class T>
class Ref {
 public:
  explicit Ref(T ref = nullptr) : m_ref(ref) {}
  ~Ref() {
    if (m_ref != nullptr) CFRelease(m_ref);
  }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  T get() const { return m_ref; }
  T* out() { return &m_ref; }

 private:
  T m_ref;
};

inline CFStringRef make_string(const std::string& s) {
  return CFStringCreateWithBytes(kCFAllocatorDefault, reinterpret_cast<const UInt8*>(s.data()),
                                 static_cast<CFIndex>(s.size()), kCFStringEncodingUTF8, false);
}

inline std::string to_string(CFStringRef s) {
  if (s == nullptr) return {};
  CFIndex length = CFStringGetLength(s);
  CFIndex size = CFStringGetMaximumSizeForEncoding(length, kCFStringEncodingUTF8) + 1;
  std::string out(static_cast<std::size_t>(size), '\0');
  if (!CFStringGetCString(s, out.data(), size, kCFStringEncodingUTF8)) return {};
  out.resize(std::strlen(out.c_str()));
  return out;
}

inline std::string bytes(CFDataRef data) {
  if (data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(CFDataGetBytePtr(data)),
                     static_cast<std::size_t>(CFDataGetLength(data)));
}

/// Security.framework's text for `status`, with the number: "... (OSStatus -25300)".
inline std::string status_text(OSStatus status) {
  Ref<CFStringRef> message(SecCopyErrorMessageString(status, nullptr));
  return to_string(message.get()) + " (OSStatus " + std::to_string(status) + ")";
}

}  // namespace claribi::cf
