#include "util/url.hpp"

#include <catch2/catch.hpp>

using namespace claribi;

TEST_CASE("URLs keep their path and query") {
  auto u = parse_url("https://mcp.aiven.live/mcp?read_only=true");
  REQUIRE(u);
  CHECK(u->scheme == "https");
  CHECK(u->host == "mcp.aiven.live");
  CHECK(u->path == "/mcp");
  CHECK(u->query == "read_only=true");
  CHECK(u->text == "https://mcp.aiven.live/mcp?read_only=true");
  CHECK_FALSE(u->is_loopback());

  auto c = parse_url("https://claribi.com/mcp/v1/");
  REQUIRE(c);
  CHECK(c->path == "/mcp/v1/");
}

TEST_CASE("relative endpoints resolve against the server URL") {
  auto base = parse_url("http://127.0.0.1:3001/sse?x=1").value();
  CHECK(resolve_url(base, "/message?sessionId=abc").value().text ==
        "http://127.0.0.1:3001/message?sessionId=abc");
  CHECK(resolve_url(base, "messages").value().text == "http://127.0.0.1:3001/messages");
  CHECK(resolve_url(base, "https://other.example/m").value().host == "other.example");
}

TEST_CASE("loopback, schemes and credentials in URLs") {
  CHECK(parse_url("http://127.0.0.1:8080/mcp").value().is_loopback());
  CHECK(parse_url("http://localhost/mcp").value().is_loopback());
  CHECK(parse_url("http://[::1]:9/mcp").value().is_loopback());
  CHECK_FALSE(parse_url("http://128.0.0.1/").value().is_loopback());
  CHECK_FALSE(parse_url("ftp://example.com/"));
  CHECK_FALSE(parse_url("not a url"));
  CHECK_FALSE(parse_url("https://user:pw@example.com/mcp"));
}

TEST_CASE("display URLs hide secret query values") {
  auto u = parse_url("https://example.com/mcp?read_only=true&api_key=s3cr3t").value();
  auto shown = display_url(u);
  CHECK(shown.find("s3cr3t") == std::string::npos);
  CHECK(shown.find("read_only=true") != std::string::npos);
}

// Found by fuzz_url: libcurl takes a length of 0 to mean "use strlen".
TEST_CASE("percent coding of an empty view reads nothing") {
  std::string buffer = "abc def";
  CHECK(percent_encode(std::string_view(buffer.data(), 0)).empty());
  CHECK(percent_decode(std::string_view(buffer.data(), 0)).empty());
  CHECK(percent_encode(std::string_view()).empty());
  CHECK(percent_encode(std::string_view(buffer.data(), 3)) == "abc");
}
