// DPoP proofs checked against RFC 9449's rules (4.2 syntax, 4.3 checks a server makes, 7.1
// ath, 8 and 9 nonces) by a verifier written here from the RFC, with OpenSSL only.
#include <catch2/catch.hpp>

#include "oauth/crypto.hpp"
#include "oauth/dpop.hpp"
#include "oauth/oauth.hpp"
#include "tests/unit/jwt_parts.hpp"
#include "util/json.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <set>

using namespace claribi;
using namespace claribi::oauth;
using claribi::test::unbase64url;

namespace {

struct Proof {
  json::Document header;
  json::Document claims;
  bool signature_ok = false;
};

/// Splits a proof, parses its parts and checks its ES256 signature with the key in its own
/// jwk header, as a resource server does (RFC 9449 4.3 steps 1-6).
Proof check(const std::string& jwt) {
  Proof p;
  auto d1 = jwt.find('.');
  auto d2 = jwt.rfind('.');
  REQUIRE(d1 != std::string::npos);
  REQUIRE(d2 > d1);
  REQUIRE(json::parse(p.header, unbase64url(jwt.substr(0, d1))));
  REQUIRE(json::parse(p.claims, unbase64url(jwt.substr(d1 + 1, d2 - d1 - 1))));
  const auto& jwk = p.header["jwk"];
  auto x = unbase64url(jwk["x"].GetString());
  auto y = unbase64url(jwk["y"].GetString());
  REQUIRE(x.size() == 32);
  REQUIRE(y.size() == 32);
  std::string point = "\x04" + x + y;
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                      OSSL_PARAM_BLD_free);
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                 OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> kctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* raw_key = nullptr;
  REQUIRE(EVP_PKEY_fromdata_init(kctx.get()) == 1);
  REQUIRE(EVP_PKEY_fromdata(kctx.get(), &raw_key, EVP_PKEY_PUBLIC_KEY, params.get()) == 1);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw_key, EVP_PKEY_free);
  auto sig = unbase64url(jwt.substr(d2 + 1));
  REQUIRE(sig.size() == 64);
  const auto* s = reinterpret_cast<const unsigned char*>(sig.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> es(ECDSA_SIG_new(), ECDSA_SIG_free);
  ECDSA_SIG_set0(es.get(), BN_bin2bn(s, 32, nullptr), BN_bin2bn(s + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(es.get(), &der);
  std::string input = jwt.substr(0, d2);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  REQUIRE(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1);
  p.signature_ok =
      EVP_DigestVerify(ctx.get(), der, static_cast<std::size_t>(der_len),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  OPENSSL_free(der);
  return p;
}

std::string str(const json::Value& doc, const char* name) {
  const auto* v = json::member(doc, name);
  return v != nullptr && v->IsString() ? v->GetString() : "";
}

}  // namespace

TEST_CASE("a DPoP proof has the syntax and claims of RFC 9449 4.2 and verifies", "[oauth][dpop]") {
  auto key = DpopKey::generate();
  REQUIRE(key);
  auto jwt = (*key)->proof("POST", "https://mcp.example/mcp?tenant=a#frag", "", "");
  REQUIRE(jwt);
  auto p = check(*jwt);
  CHECK(p.signature_ok);
  // Header: typ dpop+jwt, an asymmetric alg, the public key and nothing private.
  CHECK(str(p.header, "typ") == "dpop+jwt");
  CHECK(str(p.header, "alg") == "ES256");
  const auto& jwk = p.header["jwk"];
  CHECK(str(jwk, "kty") == "EC");
  CHECK(str(jwk, "crv") == "P-256");
  CHECK_FALSE(jwk.HasMember("d"));
  // Claims: jti, htm, htu without query and fragment, a current iat; no ath or nonce.
  CHECK(str(p.claims, "jti").size() >= 22);  // 128 random bits
  CHECK(str(p.claims, "htm") == "POST");
  CHECK(str(p.claims, "htu") == "https://mcp.example/mcp");
  REQUIRE(p.claims["iat"].IsInt64());
  CHECK(std::llabs(p.claims["iat"].GetInt64() - now_seconds()) <= 2);
  CHECK_FALSE(p.claims.HasMember("ath"));
  CHECK_FALSE(p.claims.HasMember("nonce"));
  // A flipped signature byte no longer verifies.
  auto bad = *jwt;
  bad[bad.size() - 5] = bad[bad.size() - 5] == 'A' ? 'B' : 'A';
  CHECK_FALSE(check(bad).signature_ok);
}

TEST_CASE("a proof for a resource binds the token (ath) and carries the nonce", "[oauth][dpop]") {
  auto key = DpopKey::generate();
  REQUIRE(key);
  const std::string token = "eyJ.token-value.sig";
  auto p = check(*(*key)->proof("GET", "https://mcp.example/mcp", token, "n-1"));
  CHECK(p.signature_ok);
  CHECK(str(p.claims, "htm") == "GET");
  CHECK(str(p.claims, "ath") == base64url(sha256(token)));  // RFC 9449 7.1
  CHECK(str(p.claims, "nonce") == "n-1");
}

TEST_CASE("the key's thumbprint is RFC 7638's and survives the keychain's PEM", "[oauth][dpop]") {
  auto key = DpopKey::generate();
  REQUIRE(key);
  auto p = check(*(*key)->proof("POST", "https://as.example/token", "", ""));
  const auto& jwk = p.header["jwk"];
  // The required members only, in lexicographic order, no whitespace.
  std::string canonical =
      R"({"crv":"P-256","kty":"EC","x":")" + str(jwk, "x") + R"(","y":")" + str(jwk, "y") + "\"}";
  CHECK((*key)->thumbprint() == base64url(sha256(canonical)));
  auto pem = (*key)->private_pem();
  REQUIRE(pem);
  auto back = DpopKey::from_pem(*pem);
  REQUIRE(back);
  CHECK((*back)->thumbprint() == (*key)->thumbprint());
  CHECK(check(*(*back)->proof("POST", "https://as.example/token", "", "")).signature_ok);

  CHECK_FALSE(DpopKey::from_pem("not a key"));
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> p384(EVP_EC_gen("P-384"), EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), p384.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  auto len = BIO_get_mem_data(bio.get(), &data);
  CHECK_FALSE(DpopKey::from_pem(std::string(data, static_cast<std::size_t>(len))));
}

TEST_CASE("no jti repeats across a thousand proofs", "[oauth][dpop]") {
  auto key = DpopKey::generate();
  REQUIRE(key);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto jwt = (*key)->proof("POST", "https://mcp.example/mcp", "t", "");
    REQUIRE(jwt);
    json::Document claims;
    REQUIRE(json::parse(claims, test::jwt_claims(*jwt)));
    seen.insert(str(claims, "jti"));
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("a session keeps the last nonce per origin", "[oauth][dpop]") {
  DpopSession s;
  CHECK_FALSE(s.proof("POST", "https://as.example/token"));  // no key yet
  s.set_key(*DpopKey::generate());
  s.remember_nonce("https://as.example/token", "as-1");
  s.remember_nonce("https://mcp.example/mcp?x=1", "rs-1");
  s.remember_nonce("https://mcp.example/other", "rs-2");  // same origin: replaces rs-1
  s.remember_nonce("https://mcp.example/mcp", "");        // an answer without one keeps it
  s.remember_nonce("https://mcp.example/mcp", std::string(2000, 'n'));  // absurd: ignored
  CHECK(str(check(*s.proof("POST", "https://AS.example/token")).claims, "nonce") == "as-1");
  CHECK(str(check(*s.proof("GET", "https://mcp.example/mcp", "t")).claims, "nonce") == "rs-2");
  CHECK_FALSE(check(*s.proof("GET", "https://other.example/mcp")).claims.HasMember("nonce"));
  CHECK(dpop_htu("http://127.0.0.1:8080/message?sessionId=abc") == "http://127.0.0.1:8080/message");
}
