// The authorizer's policy against a scripted authorization server and an in-memory keychain:
// discovery, which grant runs, reuse of newer tokens, refresh, step-up, and what is stored.
#include <catch2/catch.hpp>

#include "oauth/dpop.hpp"
#include "oauth/oauth.hpp"
#include "tests/unit/fake_oauth_http.hpp"
#include "tests/unit/jwt_parts.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

using namespace claribi;
using namespace claribi::oauth;
using keychain::SecretKind;

namespace {

const std::string k_server = "https://mcp.example/mcp";
const std::string k_prm = "https://mcp.example/.well-known/oauth-protected-resource/mcp";
const std::string k_as_meta = "https://as.example/.well-known/oauth-authorization-server";
const std::string k_token = "https://as.example/token";

struct Fixture {
  std::shared_ptr<test::FakeOAuthHttp> http = std::make_shared<test::FakeOAuthHttp>();
  std::shared_ptr<keychain::Keychain> store = keychain::make_memory_keychain();
  std::string account = *keychain::canonical_server(k_server);
  Options o;

  Fixture() {
    o.server = *parse_url(k_server);
    o.account_server = account;
    o.store = store;
    o.http = http;
    o.lock_path = (std::filesystem::temp_directory_path() /
                   ("claribi-unit-lock-" + std::to_string(std::random_device{}())))
                      .string();
    o.interaction = Interaction::print;
    http->on(
        "GET", k_prm, 200,
        R"({"resource":"https://mcp.example/mcp","authorization_servers":["https://as.example"],
                 "scopes_supported":["mcp:read"]})");
    http->on("GET", k_as_meta, 200,
             R"({"issuer":"https://as.example","token_endpoint":"https://as.example/token",
                 "authorization_endpoint":"https://as.example/authorize",
                 "scopes_supported":["mcp:read","offline_access"],
                 "code_challenge_methods_supported":["S256"]})");
  }

  ~Fixture() {
    std::error_code ignored;
    std::filesystem::remove(o.lock_path, ignored);
  }

  void put(SecretKind kind, const std::string& value) {
    REQUIRE(store->set(keychain::Key{keychain::account_name(account, kind)}, value));
  }
  std::optional<TokenSet> stored() {
    auto v = store->get(keychain::Key{keychain::account_name(account, SecretKind::oauth_tokens)});
    if (!v || !*v) return std::nullopt;
    auto t = TokenSet::from_json(**v);
    return t ? std::optional<TokenSet>(*t) : std::nullopt;
  }
  void m2m() {
    o.client_credentials = true;
    o.client_id = "m2m";
    put(SecretKind::client_secret, "m2m-secret");
  }
  /// The token endpoint grants `access` (with `refresh`, when given) to every request.
  void grants(const std::string& access, const std::string& refresh = "") {
    http->on("POST", k_token, 200,
             R"({"access_token":")" + access + R"(","token_type":"Bearer","expires_in":3600)" +
                 (refresh.empty() ? "" : R"(,"refresh_token":")" + refresh + "\"") + "}");
  }
  static bool has(const std::string& body, const std::string& part) {
    return body.find(part) != std::string::npos;
  }
};

TokenSet stored_set(const std::string& access, const std::string& refresh) {
  TokenSet t;
  t.access_token = access;
  t.refresh_token = refresh;
  t.issuer = "https://as.example";
  t.token_endpoint = k_token;
  t.client_id = "public-client";
  t.resource = k_server;
  t.scope = "mcp:read";
  return t;
}

}  // namespace

TEST_CASE("a machine login discovers the server, authenticates the client and stores the tokens",
          "[oauth]") {
  Fixture f;
  f.m2m();
  f.grants("at-1");
  Authorizer a(f.o);
  auto t = a.login(Challenge{401, "", "", "", ""});
  REQUIRE(t);
  CHECK(t->access_token == "at-1");
  CHECK(t->expires_at - t->obtained_at == 3600);
  CHECK(t->resource == k_server);
  REQUIRE(f.http->count("POST", k_token) == 1);
  const auto& req = f.http->seen.back();
  CHECK(Fixture::has(req.body, "grant_type=client_credentials"));
  CHECK(Fixture::has(req.body, "resource=https%3A%2F%2Fmcp.example%2Fmcp"));
  CHECK(Fixture::has(req.body, "scope=mcp%3Aread"));
  CHECK_FALSE(Fixture::has(req.body, "offline_access"));  // no refresh for a machine
  REQUIRE(req.headers.size() == 1);
  CHECK(req.headers[0].rfind("Authorization: Basic ", 0) == 0);
  auto kept = f.stored();
  REQUIRE(kept);
  CHECK(kept->access_token == "at-1");
}

TEST_CASE("newer stored tokens are used without asking the server", "[oauth]") {
  Fixture f;
  f.put(SecretKind::oauth_tokens, stored_set("newer", "rt").to_json());
  Authorizer a(f.o);
  auto t = a.authorize(Challenge{401, "", "", "", ""}, "older");
  REQUIRE(t);
  CHECK(t->access_token == "newer");
  CHECK(f.http->seen.empty());
}

TEST_CASE("a refused token is refreshed, keeping the refresh token when none comes back",
          "[oauth]") {
  Fixture f;
  f.put(SecretKind::oauth_tokens, stored_set("old", "rt-1").to_json());
  f.grants("at-new");
  Authorizer a(f.o);
  auto t = a.authorize(Challenge{401, "", "", "", ""}, "old");
  REQUIRE(t);
  CHECK(t->access_token == "at-new");
  CHECK(t->refresh_token == "rt-1");
  CHECK(t->scope == "mcp:read");
  REQUIRE(f.http->seen.size() == 1);  // no discovery for a refresh
  CHECK(Fixture::has(f.http->seen[0].body, "grant_type=refresh_token"));
  CHECK(Fixture::has(f.http->seen[0].body, "client_id=public-client"));
  CHECK(f.stored()->access_token == "at-new");
}

TEST_CASE("a dead refresh token is dropped and the login runs", "[oauth]") {
  Fixture f;
  f.m2m();
  f.put(SecretKind::oauth_tokens, stored_set("old", "dead").to_json());
  int calls = 0;
  f.http->on("POST", k_token, [&calls](const test::SeenRequest& r) {
    ++calls;
    if (r.body.find("grant_type=refresh_token") != std::string::npos) {
      return HttpResponse{400, "application/json", "", R"({"error":"invalid_grant"})"};
    }
    return HttpResponse{200, "application/json", "", R"({"access_token":"relogged"})"};
  });
  Authorizer a(f.o);
  auto t = a.authorize(Challenge{401, "", "", "", ""}, "old");
  REQUIRE(t);
  CHECK(t->access_token == "relogged");
  CHECK(calls == 2);
  CHECK(f.stored()->refresh_token.empty());
}

TEST_CASE("step-up logins stop after two for the same scopes", "[oauth]") {
  Fixture f;
  f.m2m();
  f.grants("narrow");  // never grants the scope asked for
  Authorizer a(f.o);
  Challenge more{403, "", "mcp:write", "insufficient_scope", ""};
  CHECK(a.authorize(more, "x"));
  CHECK(a.authorize(more, "narrow"));
  auto third = a.authorize(more, "narrow");
  REQUIRE_FALSE(third);
  CHECK(third.error().message.find("gave up after 2 step-up logins") != std::string::npos);
  // Each step-up asked for the union of what was asked before and what is needed now.
  CHECK(Fixture::has(f.http->seen.back().body, "scope=mcp%3Awrite"));
}

TEST_CASE("forged or foreign metadata is refused before any credential is sent", "[oauth]") {
  Fixture f;
  f.m2m();
  f.grants("never");
  SECTION("an issuer other than the one named") {
    f.http->on("GET", k_as_meta, 200,
               R"({"issuer":"https://evil.example","token_endpoint":"https://as.example/token"})");
    auto t = Authorizer(f.o).login(Challenge{});
    REQUIRE_FALSE(t);
    CHECK(t.error().message.find("it may be forged") != std::string::npos);
  }
  SECTION("resource metadata for another server") {
    f.http->on(
        "GET", k_prm, 200,
        R"({"resource":"https://other.example/mcp","authorization_servers":["https://as.example"]})");
    auto t = Authorizer(f.o).login(Challenge{});
    REQUIRE_FALSE(t);
    CHECK(t.error().message.find("another resource") != std::string::npos);
  }
  CHECK(f.http->count("POST", k_token) == 0);
}

TEST_CASE("a 2025-03-26 server without metadata gets the default endpoints", "[oauth]") {
  Fixture f;
  f.m2m();
  f.http->on("GET", k_prm, 404, "");
  f.http->on("GET", k_as_meta, 404, "");
  f.http->on("POST", "https://mcp.example/token", 200, R"({"access_token":"legacy"})");
  auto t = Authorizer(f.o).login(Challenge{});
  REQUIRE(t);
  CHECK(t->access_token == "legacy");
  CHECK(t->issuer == "https://mcp.example");
}

TEST_CASE("enterprise-managed authorization exchanges the ID token, then presents the grant",
          "[oauth]") {
  Fixture f;
  f.o.client_id = "ent";
  f.o.idp_token_endpoint = "https://idp.example/token";
  f.put(SecretKind::idp_token, "id-token-1");
  f.http->on(
      "POST", "https://idp.example/token", 200,
      R"({"access_token":"id-jag","issued_token_type":"urn:ietf:params:oauth:token-type:id-jag"})");
  f.grants("ent-at");
  auto t = Authorizer(f.o).login(Challenge{});
  REQUIRE(t);
  CHECK(t->access_token == "ent-at");
  REQUIRE(f.http->seen.size() == 4);  // two metadata documents, then the two grants
  CHECK(Fixture::has(f.http->seen[2].body, "subject_token=id-token-1"));
  CHECK(Fixture::has(f.http->seen[3].body, "assertion=id-jag"));
  CHECK_FALSE(Fixture::has(f.http->seen[3].body, "resource="));  // inside the assertion
}

TEST_CASE("the device grant registers a client and polls until the code is entered", "[oauth]") {
  Fixture f;
  f.o.interaction = Interaction::device;
  f.http->on("GET", k_as_meta, 200,
             R"({"issuer":"https://as.example","token_endpoint":"https://as.example/token",
                 "registration_endpoint":"https://as.example/register",
                 "device_authorization_endpoint":"https://as.example/device"})");
  f.http->on("POST", "https://as.example/register", 201, R"({"client_id":"dev-client"})");
  f.http->on("POST", "https://as.example/device", 200,
             R"({"device_code":"dc","user_code":"ABCD","verification_uri":"https://as.example/v",
                 "interval":1})");
  int polls = 0;
  f.http->on("POST", k_token, [&polls](const test::SeenRequest&) {
    if (++polls == 1) {
      return HttpResponse{400, "application/json", "", R"({"error":"authorization_pending"})"};
    }
    return HttpResponse{200, "application/json", "", R"({"access_token":"device-at"})"};
  });
  auto t = Authorizer(f.o).login(Challenge{});
  REQUIRE(t);
  CHECK(t->access_token == "device-at");
  CHECK(t->client_id == "dev-client");
  CHECK(polls == 2);
  CHECK(Fixture::has(f.http->seen[2].body, "urn:ietf:params:oauth:grant-type:device_code"));
}

TEST_CASE("with ES256 advertised, tokens are DPoP-bound and the AS nonce is honoured once",
          "[oauth][dpop]") {
  Fixture f;
  f.m2m();
  f.http->on("GET", k_as_meta, 200,
             R"({"issuer":"https://as.example","token_endpoint":"https://as.example/token",
                 "dpop_signing_alg_values_supported":["RS256","ES256"]})");
  f.http->on("POST", k_token, [](const test::SeenRequest& r) {
    auto proof = std::find_if(r.headers.begin(), r.headers.end(),
                              [](const std::string& h) { return h.rfind("DPoP: ", 0) == 0; });
    if (proof == r.headers.end()) return HttpResponse{400, "application/json", "", "{}"};
    // The nonce is asked for until the proof carries it.
    if (test::jwt_claims(proof->substr(6)).find(R"("nonce":"as-nonce")") == std::string::npos) {
      return HttpResponse{400, "application/json", "", R"({"error":"use_dpop_nonce"})", "as-nonce"};
    }
    return HttpResponse{200, "application/json", "",
                        R"({"access_token":"bound","token_type":"dpop","expires_in":60})"};
  });
  Authorizer a(f.o);
  auto t = a.login(Challenge{});
  REQUIRE(t);
  CHECK(t->token_type == "DPoP");
  CHECK(f.http->count("POST", k_token) == 2);
  REQUIRE(a.dpop()->key());
  CHECK(t->dpop_jkt == a.dpop()->key()->thumbprint());
  CHECK(a.dpop()->nonce(k_token) == "as-nonce");
  auto kept = f.stored();
  REQUIRE(kept);
  CHECK(kept->dpop_jkt == t->dpop_jkt);
  auto pem = f.store->get(keychain::Key{keychain::account_name(f.account, SecretKind::dpop_key)});
  REQUIRE(pem);
  REQUIRE(*pem);
  CHECK((*pem)->find("PRIVATE KEY") != std::string::npos);

  SECTION("a later bridge loads the key with the tokens") {
    Authorizer fresh(f.o);
    auto loaded = fresh.load();
    REQUIRE(loaded);
    REQUIRE(*loaded);
    REQUIRE(fresh.dpop()->key());
    CHECK(fresh.dpop()->key()->thumbprint() == t->dpop_jkt);
  }
  SECTION("without the key, the bound tokens are dropped") {
    REQUIRE(
        f.store->remove(keychain::Key{keychain::account_name(f.account, SecretKind::dpop_key)}));
    Authorizer fresh(f.o);
    auto loaded = fresh.load();
    REQUIRE(loaded);
    CHECK_FALSE(*loaded);
    CHECK_FALSE(f.stored());
  }
}

TEST_CASE("a server that does not list ES256 gets plain Bearer token requests", "[oauth][dpop]") {
  Fixture f;
  f.m2m();
  f.http->on("GET", k_as_meta, 200,
             R"({"issuer":"https://as.example","token_endpoint":"https://as.example/token",
                 "dpop_signing_alg_values_supported":["RS256"]})");
  f.grants("bearer-only-token");  // a secret from now on: not a word other tests log
  auto t = Authorizer(f.o).login(Challenge{});
  REQUIRE(t);
  CHECK(t->dpop_jkt.empty());
  for (const auto& h : f.http->seen.back().headers) CHECK(h.rfind("DPoP:", 0) != 0);
}

TEST_CASE("workload identity presents the file's JWT as it is at each token request",
          "[oauth][wif]") {
  Fixture f;
  auto file = f.o.lock_path + ".jwt";
  f.o.client_id = "workload";
  f.o.workload_token_file = file;
  auto write = [&file](const std::string& text) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
  };
  write("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3MSJ9.c2ln1\n");
  f.grants("wif-at");
  Authorizer a(f.o);
  auto t = a.login(Challenge{});
  REQUIRE(t);
  CHECK(t->access_token == "wif-at");
  const auto& first = f.http->seen.back().body;
  CHECK(Fixture::has(first, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"));
  CHECK(Fixture::has(first, "assertion=eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3MSJ9.c2ln1&"));
  CHECK(Fixture::has(first, "resource=https%3A%2F%2Fmcp.example%2Fmcp"));
  CHECK(Fixture::has(first, "client_id=workload"));

  write("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3MiJ9.c2ln2");  // the CI rotated it
  REQUIRE(a.login(Challenge{}));
  CHECK(Fixture::has(f.http->seen.back().body,
                     "assertion=eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3MiJ9.c2ln2"));

  SECTION("a refusal names the file and the server's answer, and is not retried") {
    f.http->on("POST", k_token, 400,
               R"({"error":"invalid_grant","error_description":"JWT assertion is expired"})");
    auto before = f.http->count("POST", k_token);
    auto r = a.login(Challenge{});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(file) != std::string::npos);
    CHECK(r.error().message.find("JWT assertion is expired") != std::string::npos);
    CHECK(f.http->count("POST", k_token) == before + 1);
  }
  SECTION("a file that is not a JWT, or is gone, is reported by name") {
    write("not a jwt");
    auto r = a.login(Challenge{});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(file + " does not hold a JWT") != std::string::npos);
    std::filesystem::remove(file);
    r = a.login(Challenge{});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("cannot read the workload token file " + file) !=
          std::string::npos);
  }
  std::error_code ignored;
  std::filesystem::remove(file, ignored);
}
TEST_CASE("the resource asked for is the chosen one, or none at all", "[oauth]") {
  Fixture f;
  f.m2m();
  f.grants("at", "rt");
  SECTION("--resource, in the login and the refresh") {
    f.o.resource = "https://tenant-b.example/mcp";
    Authorizer a(f.o);
    auto t = a.login(Challenge{});
    REQUIRE(t);
    CHECK(t->resource == "https://tenant-b.example/mcp");
    CHECK(Fixture::has(f.http->seen.back().body, "resource=https%3A%2F%2Ftenant-b.example%2Fmcp"));
    REQUIRE(a.refresh("at"));
    CHECK(Fixture::has(f.http->seen.back().body, "grant_type=refresh_token"));
    CHECK(Fixture::has(f.http->seen.back().body, "resource=https%3A%2F%2Ftenant-b.example%2Fmcp"));
  }
  SECTION("--no-resource-param, also for tokens stored with one") {
    f.o.send_resource = false;
    Authorizer a(f.o);
    REQUIRE(a.login(Challenge{}));
    CHECK_FALSE(Fixture::has(f.http->seen.back().body, "resource="));
    f.put(SecretKind::oauth_tokens, stored_set("old", "rt-1").to_json());  // resource k_server
    REQUIRE(a.authorize(Challenge{401, "", "", "", ""}, "old"));
    CHECK(Fixture::has(f.http->seen.back().body, "grant_type=refresh_token"));
    CHECK_FALSE(Fixture::has(f.http->seen.back().body, "resource="));
  }
}

TEST_CASE("a Bearer answer to a DPoP token request is used as Bearer, unbound", "[oauth][dpop]") {
  Fixture f;
  f.m2m();
  f.http->on("GET", k_as_meta, 200,
             R"({"issuer":"https://as.example","token_endpoint":"https://as.example/token",
                 "dpop_signing_alg_values_supported":["ES256"]})");
  f.grants("plain-anyway");
  auto t = Authorizer(f.o).login(Challenge{});
  REQUIRE(t);
  CHECK(t->token_type == "Bearer");
  CHECK(t->dpop_jkt.empty());  // so losing the key later costs these tokens nothing
  const auto& h = f.http->seen.back().headers;
  CHECK(std::any_of(h.begin(), h.end(),
                    [](const std::string& x) { return x.rfind("DPoP: ", 0) == 0; }));
}
