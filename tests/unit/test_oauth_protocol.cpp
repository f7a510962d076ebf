// The pieces of the OAuth client that need no network: challenges, metadata locations,
// resource checks, PKCE, encodings, token sets, client assertions.
#include <catch2/catch.hpp>

#include "oauth/crypto.hpp"
#include "oauth/http.hpp"
#include "oauth/oauth.hpp"

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

using namespace claribi;
using namespace claribi::oauth;

TEST_CASE("WWW-Authenticate challenges are parsed", "[oauth]") {
  auto c = parse_challenge(
      401,
      R"(Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="files:read files:write")");
  CHECK(c.resource_metadata == "https://mcp.example.com/.well-known/oauth-protected-resource/mcp");
  CHECK(c.scope == "files:read files:write");
  CHECK_FALSE(c.insufficient_scope());

  auto s = parse_challenge(
      403, R"(Bearer error="insufficient_scope", scope="a b", error_description="needs \"b\"")");
  CHECK(s.insufficient_scope());
  CHECK(s.scope == "a b");
  CHECK(s.error_description == "needs \"b\"");

  // Several challenges: only Bearer's parameters count; token values and token68 too.
  auto m = parse_challenge(
      401, R"(Basic realm="x", scope=ignored, Bearer realm=mcp,scope=one, DPoP algs="ES256")");
  CHECK(m.scope == "one");
  CHECK(parse_challenge(401, "Negotiate YWJj==, bearer error=invalid_token").error ==
        "invalid_token");
  CHECK(parse_challenge(401, "").scope.empty());
  CHECK(parse_challenge(401, "Bearer").resource_metadata.empty());
}

TEST_CASE("metadata locations keep paths and queries", "[oauth]") {
  auto aiven = parse_url("https://mcp.aiven.live/mcp?read_only=true");
  REQUIRE(aiven);
  CHECK(resource_metadata_urls(*aiven) ==
        std::vector<std::string>{
            "https://mcp.aiven.live/.well-known/oauth-protected-resource/mcp?read_only=true",
            "https://mcp.aiven.live/.well-known/oauth-protected-resource"});
  auto claribi = parse_url("https://claribi.com/mcp/v1/");
  REQUIRE(claribi);
  CHECK(resource_metadata_urls(*claribi).front() ==
        "https://claribi.com/.well-known/oauth-protected-resource/mcp/v1");
  auto root = parse_url("http://127.0.0.1:8080");
  REQUIRE(root);
  CHECK(resource_metadata_urls(*root) ==
        std::vector<std::string>{"http://127.0.0.1:8080/.well-known/oauth-protected-resource"});

  auto tenant = parse_url("https://auth.example.com/tenant1");
  REQUIRE(tenant);
  CHECK(authorization_server_metadata_urls(*tenant) ==
        std::vector<std::string>{
            "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
            "https://auth.example.com/.well-known/openid-configuration/tenant1",
            "https://auth.example.com/tenant1/.well-known/openid-configuration"});
  auto plain = parse_url("https://auth.example.com");
  REQUIRE(plain);
  CHECK(authorization_server_metadata_urls(*plain) ==
        std::vector<std::string>{"https://auth.example.com/.well-known/oauth-authorization-server",
                                 "https://auth.example.com/.well-known/openid-configuration"});
}

TEST_CASE("the resource of protected resource metadata must name the server", "[oauth]") {
  auto server = parse_url("https://mcp.example.com/mcp?read_only=true");
  REQUIRE(server);
  CHECK(resource_matches("https://mcp.example.com/mcp", *server));
  CHECK(resource_matches("https://mcp.example.com", *server));
  CHECK(resource_matches("https://MCP.example.com/mcp/", *server));
  CHECK(resource_matches("https://mcp.example.com/mcp?read_only=true", *server));
  CHECK_FALSE(resource_matches("https://mcp.example.com/mcp?read_only=false", *server));
  CHECK_FALSE(resource_matches("https://evil.example.com/mcp", *server));
  CHECK_FALSE(resource_matches("http://mcp.example.com/mcp", *server));
  CHECK_FALSE(resource_matches("https://mcp.example.com:8443/mcp", *server));
  CHECK_FALSE(resource_matches("https://mcp.example.com/mc", *server));
  CHECK_FALSE(resource_matches("https://mcp.example.com/mcp/other", *server));
  CHECK_FALSE(resource_matches("not a url", *server));
}

TEST_CASE("PKCE follows RFC 7636", "[oauth]") {
  // Appendix B's example.
  CHECK(base64url(sha256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")) ==
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  auto a = make_pkce();
  auto b = make_pkce();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->verifier.size() == 43);
  CHECK(a->verifier.find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") ==
        std::string::npos);
  CHECK(a->challenge == base64url(sha256(a->verifier)));
  CHECK(a->verifier != b->verifier);
}

TEST_CASE("form and query encoding", "[oauth]") {
  CHECK(form_encode({{"a b", "x&y=z"}, {"u", "https://h/p?q=1"}}) ==
        "a%20b=x%26y%3Dz&u=https%3A%2F%2Fh%2Fp%3Fq%3D1");
  CHECK(parse_query("code=a%2Bb+c&state=s&empty=&bare") ==
        Form{{"code", "a+b c"}, {"state", "s"}, {"empty", ""}, {"bare", ""}});
  CHECK(append_query("https://as/authorize", {{"a", "1"}}) == "https://as/authorize?a=1");
  CHECK(append_query("https://as/authorize?tenant=t", {{"a", "1"}}) ==
        "https://as/authorize?tenant=t&a=1");
}

TEST_CASE("an extra authorization parameter is KEY=VALUE, never one the login sets", "[oauth]") {
  auto p = authorize_param("domain_hint=a b&c=d");
  REQUIRE(p);
  CHECK(p->first == "domain_hint");
  CHECK(p->second == "a b&c=d");
  CHECK(authorize_param("prompt=")->second.empty());
  CHECK(authorize_param("x=y=z")->second == "y=z");
  for (const char* bad : {"prompt", "=consent", " =x"}) {
    INFO(bad);
    auto r = authorize_param(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("KEY=VALUE") != std::string::npos);
  }
  for (const char* owned :
       {"state", "code_challenge", "code_challenge_method", "redirect_uri", "client_id",
        "response_type", "response_mode", "resource", "scope", "request", "request_uri", "STATE"}) {
    INFO(owned);
    auto r = authorize_param(std::string(owned) + "=x");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("cannot set") != std::string::npos);
  }
  CHECK(authorize_param("resource=x").error().message.find("--resource") != std::string::npos);
  CHECK(authorize_param("scope=x").error().message.find("--scope") != std::string::npos);
}

TEST_CASE("token sets round-trip through JSON", "[oauth]") {
  TokenSet t;
  t.access_token = "at \"quoted\"";
  t.refresh_token = "rt";
  t.scope = "a b";
  t.expires_at = 2000000000;
  t.obtained_at = 1999996400;
  t.issuer = "https://as";
  t.token_endpoint = "https://as/token";
  t.client_id = "c";
  t.auth_method = "none";
  t.resource = "https://mcp/mcp";
  auto back = TokenSet::from_json(t.to_json());
  REQUIRE(back);
  CHECK(back->access_token == t.access_token);
  CHECK(back->refresh_token == "rt");
  CHECK(back->expires_at == t.expires_at);
  CHECK(back->resource == t.resource);
  CHECK_FALSE(TokenSet::from_json("{}"));
  CHECK_FALSE(TokenSet::from_json("not json"));
}

TEST_CASE("ES256 client assertions verify with the public key", "[oauth]") {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  REQUIRE(key);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  auto len = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<std::size_t>(len));

  auto jwt = sign_jwt(pem, R"({"iss":"c","sub":"c"})");
  REQUIRE(jwt);
  auto dot1 = jwt->find('.');
  auto dot2 = jwt->rfind('.');
  std::string input = jwt->substr(0, dot2);
  CHECK(jwt->substr(0, dot1) == base64url(R"({"alg":"ES256","typ":"JWT"})"));
  // Back from base64url to raw r||s, then DER, then verify.
  std::string sig_b64 = jwt->substr(dot2 + 1);
  for (auto& c : sig_b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (sig_b64.size() % 4) sig_b64 += '=';
  unsigned char raw[64];
  REQUIRE(EVP_DecodeBlock(raw, reinterpret_cast<const unsigned char*>(sig_b64.data()),
                          static_cast<int>(sig_b64.size())) >= 64);
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
  ECDSA_SIG_set0(sig.get(), BN_bin2bn(raw, 32, nullptr), BN_bin2bn(raw + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  REQUIRE(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1);
  CHECK(EVP_DigestVerify(ctx.get(), der, static_cast<std::size_t>(der_len),
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1);
  OPENSSL_free(der);

  CHECK_FALSE(sign_jwt("not a key", "{}"));
}

// Found by fuzz_oauth: a stored (or received) number past int64 was cast with undefined
// behaviour.
TEST_CASE("token set times out of range are clamped", "[oauth]") {
  auto t =
      oauth::TokenSet::from_json(R"({"access_token":"a","expires_at":1e19,"obtained_at":-1e19})");
  REQUIRE(t);
  CHECK(t->expires_at > 0);
  CHECK(t->obtained_at == 0);
}
