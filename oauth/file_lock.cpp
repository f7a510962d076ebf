#include "oauth/file_lock.hpp"

#include "keychain/keychain.hpp"
#include "oauth/crypto.hpp"

#include <filesystem>
#include <thread>
#include <utility>

namespace claribi::oauth {

std::string state_path_for(const std::string& server, const std::string& folder,
                           const std::string& extension) {
  static constexpr char hex[] = "0123456789abcdef";
  auto digest = sha256(server);
  std::string name;
  for (std::size_t i = 0; i < 12; ++i) {
    auto c = static_cast<unsigned char>(digest[i]);
    name.push_back(hex[c >> 4]);
    name.push_back(hex[c & 15]);
  }
  auto dir = std::filesystem::path(keychain::default_file_store_path()).parent_path() / folder;
  return (dir / (name + extension)).string();
}

std::string lock_path_for(const std::string& server) {
  return state_path_for(server, "locks", ".lock");
}

FileLock::FileLock(FileLock&& other) noexcept : FileLock() {
  std::swap(m_native, other.m_native);
}

Result<FileLock> FileLock::acquire(const std::string& path, std::chrono::milliseconds timeout) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return fail("cannot create the lock folder for " + path + ": " + ec.message());
  FileLock lock;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (auto opened = lock.open(path); !opened) return tl::unexpected(opened.error());
  for (;;) {
    auto taken = lock.try_lock(path);
    if (!taken) return tl::unexpected(taken.error());
    if (*taken) return lock;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return fail("another claribi-bridge has been logging in to this server for more than " +
              std::to_string(timeout.count() / 1000) + " s (lock " + path +
              "); finish or cancel that login and try again");
}

}  // namespace claribi::oauth
