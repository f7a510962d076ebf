#include "oauth/dpop.hpp"

#include "oauth/crypto.hpp"
#include "oauth/oauth.hpp"
#include "util/json.hpp"
#include "util/text.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace claribi::oauth {
namespace {

constexpr std::size_t k_max_nonce = 1024;

using Bn = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

/// A coordinate of the public point, base64url of its 32 big-endian bytes (RFC 7518 6.2.1.2).
Result<std::string> coordinate(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) return fail("cannot read the DPoP public key");
  Bn bn(raw, BN_free);
  unsigned char bytes[32];
  if (BN_bn2binpad(bn.get(), bytes, sizeof bytes) != sizeof bytes) {
    return fail("the DPoP public key is not a P-256 point");
  }
  return base64url(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

/// scheme://host[:port] of `url`, lower-cased: whose nonce a request carries.
std::string origin(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return text::lower(url);
  auto end = url.find_first_of("/?#", scheme_end + 3);
  return text::lower(url.substr(0, end));
}

}  // namespace

struct DpopKey::Pkey {
  EVP_PKEY* key = nullptr;
  ~Pkey() { EVP_PKEY_free(key); }
};

DpopKey::DpopKey(std::unique_ptr<Pkey> key) : m_key(std::move(key)) {}
DpopKey::~DpopKey() = default;

Result<std::shared_ptr<const DpopKey>> DpopKey::make(std::unique_ptr<Pkey> p) {
  auto x = coordinate(p->key, OSSL_PKEY_PARAM_EC_PUB_X);
  auto y = coordinate(p->key, OSSL_PKEY_PARAM_EC_PUB_Y);
  if (!x) return fail(x.error().message);
  if (!y) return fail(y.error().message);
  std::shared_ptr<DpopKey> k(new DpopKey(std::move(p)));
  k->m_jwk = R"({"crv":"P-256","kty":"EC","x":")" + *x + R"(","y":")" + *y + "\"}";
  k->m_thumbprint = base64url(sha256(k->m_jwk));
  return std::shared_ptr<const DpopKey>(std::move(k));
}

Result<std::shared_ptr<const DpopKey>> DpopKey::generate() {
  auto p = std::make_unique<Pkey>();
  p->key = EVP_EC_gen("P-256");
  if (p->key == nullptr) return fail("OpenSSL could not generate a P-256 key for DPoP");
  return make(std::move(p));
}

Result<std::shared_ptr<const DpopKey>> DpopKey::from_pem(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return fail("out of memory reading the DPoP key");
  auto p = std::make_unique<Pkey>();
  p->key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (p->key == nullptr) return fail("the stored DPoP key is not a PEM private key");
  char group[64] = {0};
  std::size_t len = 0;
  if (EVP_PKEY_base_id(p->key) != EVP_PKEY_EC ||
      EVP_PKEY_get_utf8_string_param(p->key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                     &len) != 1 ||
      std::string_view(group, len) != "prime256v1") {
    return fail("the stored DPoP key is not a P-256 key");
  }
  return make(std::move(p));
}

Result<std::string> DpopKey::private_pem() const {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), m_key->key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return fail("OpenSSL could not write the DPoP key");
  }
  char* data = nullptr;
  auto n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

Result<std::string> DpopKey::proof(std::string_view method, std::string_view url,
                                   std::string_view access_token, std::string_view nonce) const {
  auto jti = random_token(16);
  if (!jti) return fail(jti.error().message);
  std::string header = R"({"typ":"dpop+jwt","alg":"ES256","jwk":)" + m_jwk + "}";
  std::string claims = "{\"jti\":" + json::quote(*jti) + ",\"htm\":" + json::quote(method) +
                       ",\"htu\":" + json::quote(dpop_htu(url)) +
                       ",\"iat\":" + std::to_string(now_seconds());
  if (!access_token.empty()) claims += ",\"ath\":\"" + base64url(sha256(access_token)) + "\"";
  if (!nonce.empty()) claims += ",\"nonce\":" + json::quote(nonce);
  claims += "}";
  std::string input = base64url(header) + "." + base64url(claims);
  auto sig = jws_signature(m_key->key, input);
  if (!sig) return fail("signing a DPoP proof failed" + sig.error().message);
  return input + "." + base64url(*sig);
}

std::string dpop_htu(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

void DpopSession::set_key(std::shared_ptr<const DpopKey> key) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_key = std::move(key);
}

std::shared_ptr<const DpopKey> DpopSession::key() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_key;
}

Result<std::string> DpopSession::proof(std::string_view method, std::string_view url,
                                       std::string_view access_token) const {
  std::shared_ptr<const DpopKey> key;
  std::string nonce;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    key = m_key;
    auto it = m_nonces.find(origin(url));
    if (it != m_nonces.end()) nonce = it->second;
  }
  if (!key) return fail("no DPoP key is loaded");
  return key->proof(method, url, access_token, nonce);
}

void DpopSession::remember_nonce(std::string_view url, std::string_view nonce) {
  if (nonce.empty() || nonce.size() > k_max_nonce) return;
  std::lock_guard<std::mutex> lock(m_mutex);
  m_nonces[origin(url)] = std::string(nonce);
}

std::string DpopSession::nonce(std::string_view url) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  auto it = m_nonces.find(origin(url));
  return it == m_nonces.end() ? std::string() : it->second;
}

}  // namespace claribi::oauth
