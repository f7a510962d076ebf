#pragma once

// What every credential store promises, as Catch2 test cases: include this once in a test
// program and call CLARIBI_KEYCHAIN_CONTRACT(name, make) with `make` an expression giving a
// std::unique_ptr<Keychain> on the store under test (a fresh handle each call; the store
// itself may persist between calls, as a real one does). The backends' own quirks (item
// counts, races, a locked or absent daemon) stay in their own tests.

#include <catch2/catch.hpp>

#include "keychain/keychain.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace claribi::test {

inline std::string contract_big_value() {
  std::string big;
  for (int i = 0; big.size() < 64 * 1024; ++i) big += "{\"t\":" + std::to_string(i) + "}";
  big.resize(64 * 1024);
  return big;
}

}  // namespace claribi::test

#define CLARIBI_KEYCHAIN_CONTRACT(name, make)                                               \
  TEST_CASE(name ": set, get, overwrite, list and remove", "[keychain-contract]") {         \
    using namespace claribi::keychain;                                                      \
    auto k = make;                                                                          \
    Key key{"https://contract.example/mcp/v1#api-key"};                                     \
    Key other{"https://contract.example/mcp/v1#oauth-tokens"};                              \
    Key elsewhere{"https://contract.example/mcp/v10#api-key"};                              \
    REQUIRE(k->set(key, "claribi_mcp_first"));                                              \
    CHECK(k->get(key).value() == std::optional<std::string>("claribi_mcp_first"));          \
    REQUIRE(k->set(key, "claribi_mcp_second"));                                             \
    CHECK(make->get(key).value() == std::optional<std::string>("claribi_mcp_second"));      \
    REQUIRE(k->set(other, "{\"access_token\":\"t\"}"));                                     \
    REQUIRE(k->set(elsewhere, "not listed"));                                               \
    auto listed = k->list("https://contract.example/mcp/v1#").value();                      \
    std::sort(listed.begin(), listed.end());                                                \
    CHECK(listed == std::vector<std::string>{key.account, other.account});                  \
    REQUIRE(k->remove(key));                                                                \
    CHECK(k->get(key).value() == std::nullopt);                                             \
    CHECK(k->get(other).value() == std::optional<std::string>("{\"access_token\":\"t\"}")); \
    CHECK(k->remove(key)); /* removing what is not there is fine */                         \
    REQUIRE(k->remove(other));                                                              \
    REQUIRE(k->remove(elsewhere));                                                          \
    CHECK(k->list("https://contract.example/").value().empty());                            \
    CHECK_FALSE(k->backend_name().empty());                                                 \
  }                                                                                         \
  TEST_CASE(name ": unicode accounts and values, and 64 KiB, come back whole",              \
            "[keychain-contract]") {                                                        \
    using namespace claribi::keychain;                                                      \
    auto k = make;                                                                          \
    Key key{"https://contract.example/ünï?t=größe#oauth-tokens"};                           \
    std::string unicode = "clé-秘密-🔑-\xd0\x9a\xd0\xbb\xd1\x8e\xd1\x87";                    \
    REQUIRE(k->set(key, unicode));                                                          \
    CHECK(k->get(key).value() == std::optional<std::string>(unicode));                      \
    CHECK(k->list("https://contract.example/ünï").value() ==                                \
          std::vector<std::string>{key.account});                                           \
    auto big = claribi::test::contract_big_value();                                         \
    REQUIRE(k->set(key, big));                                                              \
    CHECK(make->get(key).value() == std::optional<std::string>(big));                       \
    REQUIRE(k->set(key, "short again"));                                                    \
    CHECK(k->get(key).value() == std::optional<std::string>("short again"));                \
    REQUIRE(k->remove(key));                                                                \
    CHECK(k->get(key).value() == std::nullopt);                                             \
  }
