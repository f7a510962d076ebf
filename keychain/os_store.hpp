#pragma once

// What the OS store backends share beyond their OS calls (keychain_<os>.cpp): listing, and
// the update-or-add race of stores that have separate calls for the two.

#include <functional>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace claribi::keychain {

/// The names of `all` that start with `prefix`, sorted, each once: what Keychain::list
/// returns, from a store that lists every account of our service.
std::vector<std::string> with_prefix(std::vector<std::string> all, const std::string& prefix);

/// What an OS store's update or add call found.
enum class Write {
  done,    ///< the value is stored
  absent,  ///< update: there is no such item
  exists   ///< add: another process added the item first
};

/// Stores a value through an OS store's separate update and add calls, where another process
/// may add the item between them: update; when absent, add; when the add finds the item
/// there, update again. Gives up, naming `account`, after three rounds of that.
Result<void> update_or_add(const std::function<Result<Write>()>& update,
                           const std::function<Result<Write>()>& add, const std::string& account);

}  // namespace claribi::keychain
