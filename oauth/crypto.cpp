#include "oauth/crypto.hpp"

#include "util/base64.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>
#include <vector>

namespace claribi::oauth {

std::string base64url(std::string_view bytes) {
  auto s = base64::encode(bytes.data(), bytes.size());
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (auto& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

Result<std::string> random_token(std::size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1) {
    return fail("the system's random number generator failed (OpenSSL RAND_bytes)");
  }
  return base64url(bytes);
}

std::string sha256(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

Result<Pkce> make_pkce() {
  auto verifier = random_token(32);
  if (!verifier) return fail(verifier.error().message);
  Pkce p;
  p.verifier = std::move(*verifier);
  p.challenge = base64url(sha256(p.verifier));
  return p;
}

Result<std::string> sign_jwt(const std::string& private_key_pem, const std::string& claims_json) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())), BIO_free);
  if (!bio) return fail("out of memory reading the private key");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) return fail("the stored client key is not a PEM private key");
  const int type = EVP_PKEY_base_id(key.get());
  std::string alg;
  if (type == EVP_PKEY_EC) {
    if (EVP_PKEY_bits(key.get()) != 256) return fail("only P-256 EC keys (ES256) are supported");
    alg = "ES256";
  } else if (type == EVP_PKEY_RSA) {
    alg = "RS256";
  } else {
    return fail("the client key must be an EC P-256 (ES256) or RSA (RS256) private key");
  }
  std::string input =
      base64url("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}") + "." + base64url(claims_json);
  auto sig = jws_signature(key.get(), input);
  if (!sig) return fail("signing the client assertion failed" + sig.error().message);
  return input + "." + base64url(*sig);
}

Result<std::string> jws_signature(EVP_PKEY* key, std::string_view input) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1) {
    return fail(" (OpenSSL could not start the signature)");
  }
  std::vector<unsigned char> sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return fail(" (OpenSSL could not sign)");
  }
  sig.resize(len);
  if (EVP_PKEY_base_id(key) != EVP_PKEY_EC) {
    return std::string(reinterpret_cast<const char*>(sig.data()), sig.size());
  }
  // JWS wants r || s, 32 bytes each (RFC 7518 3.4); OpenSSL gives DER.
  const unsigned char* p = sig.data();
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> es(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())), ECDSA_SIG_free);
  if (!es) return fail(" (a bad ECDSA signature)");
  unsigned char rs[64];
  BN_bn2binpad(ECDSA_SIG_get0_r(es.get()), rs, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(es.get()), rs + 32, 32);
  return std::string(reinterpret_cast<const char*>(rs), sizeof rs);
}

}  // namespace claribi::oauth
