// The Windows Credential Manager backend, cross-compiled with mingw-w64 and run under wine
// (scripts/test-windows) or on Windows.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "keychain/keychain.hpp"
#include "tests/keychain_contract.hpp"

#include <windows.h>
// wincred.h needs windows.h first.
#include <wincred.h>

using namespace claribi::keychain;

namespace {

std::unique_ptr<Keychain> store() {
  auto k = make_platform_keychain();
  REQUIRE(k);
  return std::move(*k);
}

/// The raw credential a target holds, bypassing the chunking adapter.
std::optional<std::string> raw(const std::string& account) {
  std::wstring target = L"claribi-bridge:";
  for (char c : account) target += static_cast<wchar_t>(static_cast<unsigned char>(c));
  PCREDENTIALW cred = nullptr;
  if (!::CredReadW(target.c_str(), CRED_TYPE_GENERIC, 0, &cred)) return std::nullopt;
  std::string v(reinterpret_cast<const char*>(cred->CredentialBlob), cred->CredentialBlobSize);
  ::CredFree(cred);
  return v;
}

}  // namespace

CLARIBI_KEYCHAIN_CONTRACT("Credential Manager", store())

TEST_CASE("a short value is one generic credential, readable as such") {
  auto k = store();
  Key key{"https://claribi.com/mcp/v1#api-key"};
  REQUIRE(k->set(key, "claribi_mcp_windows_1"));
  REQUIRE(raw(key.account) == std::optional<std::string>("claribi_mcp_windows_1"));
  REQUIRE(k->remove(key));
  REQUIRE(raw(key.account) == std::nullopt);
}

TEST_CASE("a 64 KiB token set spans credentials of at most 2560 bytes and comes back whole") {
  auto k = store();
  Key key{"https://claribi.com/mcp/v1#oauth-tokens"};
  std::string big;
  for (int i = 0; big.size() < 64 * 1024; ++i) big += "{\"t\":" + std::to_string(i) + "}";
  big.resize(64 * 1024);
  REQUIRE(k->set(key, big));
  REQUIRE(*k->get(key) == std::optional<std::string>(big));
  std::size_t parts = 0;
  for (std::size_t i = 1;; ++i) {
    auto piece = raw(key.account + "#part" + std::to_string(i));
    if (!piece) break;
    REQUIRE(piece->size() <= 2560);
    ++parts;
  }
  REQUIRE(parts >= 25);
  REQUIRE(k->list("https://claribi.com/mcp/v1#").value() == std::vector<std::string>{key.account});

  // A piece overwritten by a different write is detected, not returned.
  std::wstring target =
      L"claribi-bridge:" + std::wstring(key.account.begin(), key.account.end()) + L"#part3";
  std::string forged = "0123456789abcdef\n" + std::string(100, 'x');
  CREDENTIALW cred{};
  cred.Type = CRED_TYPE_GENERIC;
  cred.TargetName = target.data();
  cred.CredentialBlobSize = static_cast<DWORD>(forged.size());
  cred.CredentialBlob = reinterpret_cast<LPBYTE>(forged.data());
  cred.Persist = CRED_PERSIST_LOCAL_MACHINE;
  REQUIRE(::CredWriteW(&cred, 0));
  auto torn = k->get(key);
  REQUIRE_FALSE(torn);
  REQUIRE(torn.error().message.find("another process") != std::string::npos);

  // Storing a short value again removes every piece.
  REQUIRE(k->set(key, "short"));
  REQUIRE_FALSE(raw(key.account + "#part1"));
  REQUIRE(k->remove(key));
  REQUIRE(*k->get(key) == std::nullopt);
}
