#include "keychain/os_store.hpp"

#include <algorithm>

namespace claribi::keychain {

std::vector<std::string> with_prefix(std::vector<std::string> all, const std::string& prefix) {
  all.erase(std::remove_if(
                all.begin(), all.end(),
                [&](const std::string& a) { return a.compare(0, prefix.size(), prefix) != 0; }),
            all.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

Result<void> update_or_add(const std::function<Result<Write>()>& update,
                           const std::function<Result<Write>()>& add, const std::string& account) {
  for (int round = 0; round < 3; ++round) {
    auto updated = update();
    if (!updated) return tl::unexpected(updated.error());
    if (*updated == Write::done) return {};
    auto added = add();
    if (!added) return tl::unexpected(added.error());
    if (*added == Write::done) return {};
  }
  return fail("could not store " + account + ": another process kept changing it");
}

}  // namespace claribi::keychain
