#pragma once

#include <string>
#include <string_view>

#include "util/result.hpp"

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

}  // namespace claribi::oauth
