// Reading what authorization servers answer: metadata, registration, token, device and error
// answers, without any I/O.
#include <catch2/catch.hpp>

#include "oauth/answers.hpp"

using namespace claribi;
using namespace claribi::oauth;

TEST_CASE("authorization server metadata is read, and needs a token endpoint", "[oauth]") {
  auto doc = json::parse_or_null(R"({"issuer":"https://as","token_endpoint":"https://as/t",
    "scopes_supported":["a",1,"b"],"token_endpoint_auth_methods_supported":[],
    "authorization_response_iss_parameter_supported":"yes",
    "client_id_metadata_document_supported":true})");
  auto m = read_as_metadata(doc);
  REQUIRE(m);
  CHECK(m->issuer == "https://as");
  CHECK(m->scopes_supported == std::vector<std::string>{"a", "b"});
  CHECK(m->has_auth_methods);  // listed, even empty: RFC 8414's default does not apply
  CHECK(m->auth_methods.empty());
  CHECK_FALSE(m->has_challenge_methods);
  CHECK_FALSE(m->iss_supported);  // only JSON true counts
  CHECK(m->cimd_supported);
  auto none = read_as_metadata(json::parse_or_null(R"({"issuer":"https://as"})"));
  REQUIRE_FALSE(none);
  CHECK(none.error().message.find("token_endpoint") != std::string::npos);
  CHECK_FALSE(read_as_metadata(json::parse_or_null("[1]")));
}

TEST_CASE("protected resource metadata needs its resource and a server", "[oauth]") {
  auto m = read_resource_metadata(json::parse_or_null(
      R"({"resource":"https://mcp/x","authorization_servers":["https://as"],"scopes_supported":["r"]})"));
  REQUIRE(m);
  CHECK(m->authorization_servers.front() == "https://as");
  CHECK(m->scopes_supported == std::vector<std::string>{"r"});
  CHECK_FALSE(read_resource_metadata(json::parse_or_null(R"({"authorization_servers":["x"]})")));
  auto no_server = read_resource_metadata(
      json::parse_or_null(R"({"resource":"https://mcp/x","authorization_servers":[]})"));
  REQUIRE_FALSE(no_server);
  CHECK(no_server.error().message.find("no authorization server") != std::string::npos);
}

TEST_CASE("token answers are read, lifetimes bounded, the type normalised", "[oauth]") {
  auto t = read_token_answer(200, R"({"access_token":"at","token_type":"BEARER","expires_in":60})");
  REQUIRE(t);
  CHECK(t->token_type == "Bearer");
  CHECK(t->expires_in == 60);
  auto huge = read_token_answer(200, R"({"access_token":"at","expires_in":1e300})");
  REQUIRE(huge);
  CHECK(huge->expires_in == 10LL * 365 * 24 * 3600);
  auto unsaid = read_token_answer(200, R"({"access_token":"at","token_type":"DPoP"})");
  REQUIRE(unsaid);
  CHECK(unsaid->expires_in == -1);
  CHECK(unsaid->token_type == "DPoP");
  CHECK_FALSE(read_token_answer(200, R"({"token_type":"Bearer"})"));
  auto deep = read_token_answer(200, std::string(100000, '['));
  REQUIRE_FALSE(deep);
  CHECK(deep.error().message.find("not a JSON object") != std::string::npos);
}

TEST_CASE("registration and device answers need their required fields", "[oauth]") {
  auto r = read_registration(201, R"({"client_id":"c","client_secret":"s"})");
  REQUIRE(r);
  CHECK(r->auth_method.empty());
  CHECK_FALSE(read_registration(201, R"({"client_secret":"s"})"));
  auto d = read_device_authorization(
      200, R"({"device_code":"d","user_code":"U","verification_uri":"https://v","interval":0,
              "expires_in":1e9})");
  REQUIRE(d);
  CHECK(d->interval_s == 1);
  CHECK(d->expires_in_s == 24 * 3600);
  CHECK_FALSE(read_device_authorization(200, R"({"device_code":"d","user_code":"U"})"));
}

TEST_CASE("error answers are summarised in one line", "[oauth]") {
  std::string code;
  CHECK(error_text(400, R"({"error":"invalid_grant","error_description":"used"})", &code) ==
        "HTTP 400, invalid_grant: used");
  CHECK(code == "invalid_grant");
  CHECK(error_text(502, "<html>\r\nBad Gateway\n</html>") ==
        "HTTP 502: <html>  Bad Gateway </html>");
  CHECK(error_text(500, "") == "HTTP 500");
  CHECK(error_text(500, std::string(1000, 'x')).size() == std::string("HTTP 500: ").size() + 200);
}
