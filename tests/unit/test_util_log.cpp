#include "util/log.hpp"

#include <catch2/catch.hpp>

using namespace claribi;

TEST_CASE("redaction removes credentials") {
  const std::string canary = "claribi_mcp_CANARY123456789";
  CHECK(log::redact("Authorization: Bearer " + canary).find("CANARY") == std::string::npos);
  CHECK(log::redact("authorization: Basic dXNlcjpwYXNz").find("dXNlcjpwYXNz") == std::string::npos);
  CHECK(log::redact("key " + canary + " used").find("CANARY") == std::string::npos);
  CHECK(log::redact(R"({"access_token":"eyJabc.def","x":1})").find("eyJabc") == std::string::npos);
  CHECK(log::redact("https://h/cb?code=xyz123&state=s").find("xyz123") == std::string::npos);
  CHECK(log::redact("plain text stays") == "plain text stays");
}

TEST_CASE("registered secrets are replaced wherever they appear") {
  log::add_secret("opaque-secret-value-42");
  CHECK(log::redact("x=opaque-secret-value-42;y").find("opaque-secret") == std::string::npos);
}

TEST_CASE("very long text is cut before it is logged") {
  auto out = log::redact(std::string(100000, 'a'));
  CHECK(out.size() < 5000);
  CHECK(out.find("100000 bytes") != std::string::npos);
}

// Found by reading fuzz_log_redact's reach: a secret inside the mark looped forever.
TEST_CASE("a secret that is part of the redaction mark ends") {
  // Process-wide: a substring of the mark that no other test's text holds.
  log::add_secret("edacte");
  auto out = log::redact("token edacte here, twice: edacte");
  CHECK(out == "token [redacted] here, twice: [redacted]");
}
