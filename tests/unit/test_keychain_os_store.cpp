#include "keychain/os_store.hpp"

#include <catch2/catch.hpp>

using namespace claribi;
using namespace claribi::keychain;

TEST_CASE("an OS store's accounts are filtered by prefix, sorted, each once") {
  std::vector<std::string> all = {"https://b#api-key", "https://a#oauth-tokens",
                                  "other-tool",        "https://a#api-key",
                                  "https://a#api-key", "https://ab#api-key"};
  CHECK(with_prefix(all, "https://a#") ==
        std::vector<std::string>{"https://a#api-key", "https://a#oauth-tokens"});
  CHECK(with_prefix(all, "").size() == 5);
  CHECK(with_prefix({}, "https://a#").empty());
}

TEST_CASE("update-or-add stores through a race with another process, and gives up by name") {
  int updates = 0, adds = 0;
  // The item is absent at the update, and another process adds it before our add.
  auto update = [&]() -> Result<Write> { return ++updates == 1 ? Write::absent : Write::done; };
  auto add = [&]() -> Result<Write> {
    ++adds;
    return Write::exists;
  };
  CHECK(update_or_add(update, add, "acct"));
  CHECK(updates == 2);
  CHECK(adds == 1);

  // It keeps vanishing and reappearing: three rounds, then a clear error.
  updates = adds = 0;
  auto absent = [&]() -> Result<Write> {
    ++updates;
    return Write::absent;
  };
  auto r = update_or_add(absent, add, "https://x#api-key");
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "could not store https://x#api-key: another process kept changing it");
  CHECK(updates == 3);

  // A failing call ends it with that call's error.
  auto broken = []() -> Result<Write> { return fail("could not update: locked"); };
  CHECK(update_or_add(broken, add, "a").error().message == "could not update: locked");
  auto fresh = []() -> Result<Write> { return Write::done; };
  CHECK(update_or_add(absent, fresh, "a"));
}
