// Windows: Credential Manager generic credentials (CredWriteW / CredReadW / CredDeleteW /
// CredEnumerateW), target "claribi-bridge:<account>". A credential blob holds at most 2560
// bytes (CRED_MAX_CREDENTIAL_BLOB_SIZE, 5 * 512; some mingw-w64 headers say 512), so values
// go through the chunking adapter: larger token sets span several credentials.
#include "keychain/keychain.hpp"
#include "keychain/os_store.hpp"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
// wincred.h needs windows.h first.
#include <wincred.h>

#include <cstdlib>

namespace claribi::keychain {
namespace {

constexpr std::size_t k_max_blob = 5 * 512;
constexpr const wchar_t* k_target_prefix = L"claribi-bridge:";

std::wstring widen(const std::string& s) {
  if (s.empty()) return {};
  int n = ::MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n);
  return out;
}

std::string narrow(const wchar_t* s) {
  int n = ::WideCharToMultiByte(CP_UTF8, 0, s, -1, nullptr, 0, nullptr, nullptr);
  if (n <= 1) return {};
  std::string out(static_cast<std::size_t>(n), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, s, -1, out.data(), n, nullptr, nullptr);
  out.resize(static_cast<std::size_t>(n - 1));
  return out;
}

std::string system_message(DWORD code) {
  wchar_t* text = nullptr;
  DWORD n = ::FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, code, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
  std::string out = n > 0 ? narrow(text) : "error " + std::to_string(code);
  if (text != nullptr) ::LocalFree(text);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) {
    out.pop_back();
  }
  return out + " (" + std::to_string(code) + ")";
}

Error failure(const std::string& what, DWORD code) {
  if (code == ERROR_NO_SUCH_LOGON_SESSION) {
    return Error{what +
                 ": Credential Manager is not available in this logon session (a service or "
                 "non-interactive session). Run claribi-bridge as the signed-in user, or use "
                 "--credential-store file"};
  }
  return Error{what + ": " + system_message(code)};
}

class CredentialManager final : public Keychain {
 public:
  Result<std::optional<std::string>> get(const Key& key) override {
    auto target = target_of(key);
    PCREDENTIALW cred = nullptr;
    if (!::CredReadW(target.c_str(), CRED_TYPE_GENERIC, 0, &cred)) {
      DWORD code = ::GetLastError();
      if (code == ERROR_NOT_FOUND) return std::optional<std::string>();
      return tl::unexpected(failure("could not read " + key.account, code));
    }
    std::string value(reinterpret_cast<const char*>(cred->CredentialBlob),
                      cred->CredentialBlobSize);
    ::CredFree(cred);
    return std::optional<std::string>(std::move(value));
  }

  Result<void> set(const Key& key, const std::string& secret) override {
    if (secret.size() > k_max_blob) {
      return fail("internal: a credential blob of " + std::to_string(secret.size()) + " bytes");
    }
    auto target = target_of(key);
    auto user = widen(k_service);
    CREDENTIALW cred{};
    cred.Type = CRED_TYPE_GENERIC;
    cred.TargetName = target.data();
    cred.UserName = user.data();
    cred.CredentialBlobSize = static_cast<DWORD>(secret.size());
    cred.CredentialBlob = reinterpret_cast<LPBYTE>(const_cast<char*>(secret.data()));
    cred.Persist = CRED_PERSIST_LOCAL_MACHINE;
    if (!::CredWriteW(&cred, 0)) {
      return tl::unexpected(failure("could not store " + key.account, ::GetLastError()));
    }
    return {};
  }

  Result<void> remove(const Key& key) override {
    auto target = target_of(key);
    if (!::CredDeleteW(target.c_str(), CRED_TYPE_GENERIC, 0)) {
      DWORD code = ::GetLastError();
      if (code != ERROR_NOT_FOUND) {
        return tl::unexpected(failure("could not remove " + key.account, code));
      }
    }
    return {};
  }

  Result<std::vector<std::string>> list(const std::string& prefix) override {
    std::wstring filter = std::wstring(k_target_prefix) + L"*";
    DWORD count = 0;
    PCREDENTIALW* creds = nullptr;
    std::vector<std::string> out;
    if (!::CredEnumerateW(filter.c_str(), 0, &count, &creds)) {
      DWORD code = ::GetLastError();
      if (code == ERROR_NOT_FOUND) return out;
      return tl::unexpected(failure("could not list the stored credentials", code));
    }
    std::size_t skip = std::wstring(k_target_prefix).size();
    for (DWORD i = 0; i < count; ++i) out.push_back(narrow(creds[i]->TargetName + skip));
    ::CredFree(creds);
    return with_prefix(std::move(out), prefix);
  }

  std::string backend_name() const override { return "Windows Credential Manager"; }

 private:
  static std::wstring target_of(const Key& key) {
    return std::wstring(k_target_prefix) + widen(key.account);
  }
};

}  // namespace

Result<std::unique_ptr<Keychain>> make_platform_keychain() {
  return make_chunked_keychain(std::make_unique<CredentialManager>(), k_max_blob);
}

/// No file store on Windows yet: say so instead of pretending.
Result<std::unique_ptr<Keychain>> make_file_keychain(std::string) {
  return fail("--credential-store file is not available on Windows; Credential Manager is used");
}

/// Where the file store would be, and so where the bridge's other state lives (era verdicts,
/// login locks: oauth::state_path_for): %LOCALAPPDATA%\claribi-bridge, never the folder the
/// client happened to start the bridge in.
std::string default_file_store_path() {
  std::wstring base;
  if (const wchar_t* local = _wgetenv(L"LOCALAPPDATA"); local != nullptr && *local != L'\0') {
    base = local;
  } else if (const wchar_t* profile = _wgetenv(L"USERPROFILE");
             profile != nullptr && *profile != L'\0') {
    base = std::wstring(profile) + L"\\AppData\\Local";
  } else {
    base = L".";
  }
  return narrow((base + L"\\claribi-bridge\\credentials.json").c_str());
}

}  // namespace claribi::keychain
