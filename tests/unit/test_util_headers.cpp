#include "util/headers.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace claribi;

namespace {
EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST_CASE("${VAR} is expanded from the environment") {
  auto env = fake_env({{"TOKEN", "abc"}, {"EMPTY", ""}});
  CHECK(expand_env("Bearer ${TOKEN}", env).value() == "Bearer abc");
  CHECK(expand_env("${TOKEN}${TOKEN}", env).value() == "abcabc");
  CHECK(expand_env("x${EMPTY}y", env).value() == "xy");
  CHECK(expand_env("cost $5 and $TOKEN", env).value() == "cost $5 and $TOKEN");
  auto missing = expand_env("${NOPE}", env);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("NOPE") != std::string::npos);
  CHECK_FALSE(expand_env("${TOKEN", env));
  CHECK_FALSE(expand_env("${}", env));
}

TEST_CASE("headers are parsed and checked") {
  auto env = fake_env({{"K", "secret"}});
  auto h = parse_header("Authorization:   Bearer ${K}  ", env);
  REQUIRE(h);
  CHECK(h->name == "Authorization");
  CHECK(h->value == "Bearer secret");
  CHECK(parse_header("X-Empty:", env).value().value.empty());
  CHECK_FALSE(parse_header("no colon", env));
  CHECK_FALSE(parse_header("Bad Name: x", env));
  CHECK_FALSE(parse_header(": x", env));
  auto injected = fake_env({{"V", "a\r\nX-Evil: 1"}});
  CHECK_FALSE(parse_header("X-A: ${V}", injected));
}

TEST_CASE("secret headers are recognised") {
  CHECK(is_secret_header("authorization"));
  CHECK(is_secret_header("X-API-Key"));
  CHECK(is_secret_header("X-Auth-Token"));
  CHECK_FALSE(is_secret_header("Accept"));
}
