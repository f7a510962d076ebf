#include "keychain/keychain.hpp"

#include <catch2/catch.hpp>

using namespace claribi::keychain;

TEST_CASE("memory keychain stores, lists and removes") {
  auto k = make_memory_keychain();
  REQUIRE(k->set(Key{"https://a/mcp api-key"}, "s1"));
  REQUIRE(k->set(Key{"https://a/mcp oauth-tokens"}, "s2"));
  REQUIRE(k->set(Key{"https://b/mcp api-key"}, "s3"));
  CHECK(k->get(Key{"https://a/mcp api-key"}).value() == std::optional<std::string>("s1"));
  CHECK(k->list("https://a/").value().size() == 2);
  REQUIRE(k->remove(Key{"https://a/mcp api-key"}));
  CHECK_FALSE(k->get(Key{"https://a/mcp api-key"}).value().has_value());
  CHECK(k->backend_name() == "memory");
}
