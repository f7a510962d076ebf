// The keychain contract (tests/keychain_contract.hpp) on the backends a unit test can reach:
// memory, the 0600 file store, and the chunking adapter over small parts. The Secret Service
// runs it in tests/keyring, Credential Manager in tests/windows.
#include "tests/keychain_contract.hpp"

#include <algorithm>
#include <filesystem>
#include <random>

namespace {

std::unique_ptr<claribi::keychain::Keychain> memory_store() {
  static auto* shared = claribi::keychain::make_memory_keychain().release();
  // A fresh handle to one store, as a real backend gives: a thin forwarder.
  struct Handle final : claribi::keychain::Keychain {
    claribi::keychain::Keychain& k;
    explicit Handle(claribi::keychain::Keychain& store) : k(store) {}
    claribi::Result<std::optional<std::string>> get(const claribi::keychain::Key& key) override {
      return k.get(key);
    }
    claribi::Result<void> set(const claribi::keychain::Key& key, const std::string& v) override {
      return k.set(key, v);
    }
    claribi::Result<void> remove(const claribi::keychain::Key& key) override {
      return k.remove(key);
    }
    claribi::Result<std::vector<std::string>> list(const std::string& prefix) override {
      return k.list(prefix);
    }
    std::string backend_name() const override { return k.backend_name(); }
  };
  return std::make_unique<Handle>(*shared);
}

#ifndef _WIN32  // Windows has no file store (the case at the end)
std::unique_ptr<claribi::keychain::Keychain> file_store() {
  static const struct TempFile {
    std::string path = (std::filesystem::temp_directory_path() /
                        ("claribi-contract-" + std::to_string(std::random_device{}()) + ".json"))
                           .string();
    ~TempFile() {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
    }
  } file;
  auto k = claribi::keychain::make_file_keychain(file.path);
  REQUIRE(k);
  return std::move(*k);
}
#endif

std::unique_ptr<claribi::keychain::Keychain> chunked_store() {
  return claribi::keychain::make_chunked_keychain(memory_store(), 100);
}

}  // namespace

CLARIBI_KEYCHAIN_CONTRACT("memory keychain", memory_store())
#ifdef _WIN32
TEST_CASE("Windows has no file store, and says so") {
  auto k = claribi::keychain::make_file_keychain("C:\\nowhere\\credentials.json");
  REQUIRE_FALSE(k);
  CHECK(k.error().message.find("not available on Windows") != std::string::npos);
}
#else
CLARIBI_KEYCHAIN_CONTRACT("file keychain", file_store())
#endif
CLARIBI_KEYCHAIN_CONTRACT("chunked keychain over 100-byte parts", chunked_store())
