#include "keychain/keychain.hpp"

#include <map>
#include <mutex>

namespace claribi::keychain {
namespace {

class MemoryKeychain final : public Keychain {
 public:
  Result<std::optional<std::string>> get(const Key& key) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_items.find(key.account);
    if (it == m_items.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Result<void> set(const Key& key, const std::string& secret) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_items[key.account] = secret;
    return {};
  }
  Result<void> remove(const Key& key) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_items.erase(key.account);
    return {};
  }
  Result<std::vector<std::string>> list(const std::string& prefix) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    std::vector<std::string> out;
    for (auto it = m_items.lower_bound(prefix);
         it != m_items.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      out.push_back(it->first);
    }
    return out;
  }
  std::string backend_name() const override { return "memory"; }

 private:
  std::mutex m_mutex;
  std::map<std::string, std::string> m_items;
};

}  // namespace

std::unique_ptr<Keychain> make_memory_keychain() {
  return std::make_unique<MemoryKeychain>();
}

}  // namespace claribi::keychain
