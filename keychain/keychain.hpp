#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace claribi::keychain {

/// Where one secret lives: service "claribi-bridge", an account naming the server and kind.
struct Key {
  std::string account;
};

/// One interface over the OS secret stores. Calls may block (a keyring prompt): never call
/// them on the io thread.
class Keychain {
 public:
  virtual ~Keychain() = default;
  virtual Result<std::optional<std::string>> get(const Key& key) = 0;
  virtual Result<void> set(const Key& key, const std::string& secret) = 0;
  virtual Result<void> remove(const Key& key) = 0;
  /// Accounts stored whose name starts with `prefix`.
  virtual Result<std::vector<std::string>> list(const std::string& prefix) = 0;
  /// A short name for status output ("memory", "libsecret", ...).
  virtual std::string backend_name() const = 0;
};

/// A process-local store, for unit tests of the code that uses a keychain.
std::unique_ptr<Keychain> make_memory_keychain();

}  // namespace claribi::keychain
