#pragma once

#include <string>
#include <string_view>

#include "util/result.hpp"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace claribi::oauth {

/// Base64url without padding (RFC 7636 appendix A, RFC 7515).
std::string base64url(std::string_view bytes);
/// `n` bytes from OpenSSL's CSPRNG, base64url-encoded.
Result<std::string> random_token(std::size_t n);
/// SHA-256 of `data`, raw bytes.
std::string sha256(std::string_view data);

struct Pkce {
  std::string verifier;   ///< 43 characters (32 random bytes)
  std::string challenge;  ///< BASE64URL(SHA256(verifier)), method S256
};
Result<Pkce> make_pkce();

/// A JWT signed with the PEM private key: ES256 for P-256 keys, RS256 for RSA keys.
/// `claims_json` is the payload object, compact JSON.
Result<std::string> sign_jwt(const std::string& private_key_pem, const std::string& claims_json);

/// The raw JWS signature (RFC 7518 3) of `input` with SHA-256: r || s for an EC P-256 key
/// (ES256), PKCS #1 v1.5 for an RSA key (RS256). The error message is a parenthesised detail.
Result<std::string> jws_signature(evp_pkey_st* key, std::string_view input);

}  // namespace claribi::oauth
