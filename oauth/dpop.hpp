#pragma once

// DPoP (RFC 9449): the P-256 key that binds this bridge's tokens to it, and the proof JWTs
// its token requests and MCP requests carry. No I/O here: the key is stored by OAuthStore.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace claribi::oauth {

/// A P-256 key pair for DPoP proofs (ES256). Immutable: proofs may be made on any thread.
class DpopKey {
 public:
  static Result<std::shared_ptr<const DpopKey>> generate();
  /// The key of `pem` (PKCS #8, as `private_pem` writes); refuses anything but P-256.
  static Result<std::shared_ptr<const DpopKey>> from_pem(const std::string& pem);
  ~DpopKey();
  DpopKey(const DpopKey&) = delete;
  DpopKey& operator=(const DpopKey&) = delete;

  /// PKCS #8 PEM of the private key: for the keychain only.
  Result<std::string> private_pem() const;
  /// The public key as a JWK with only the RFC 7638 members, in their order.
  const std::string& public_jwk() const { return m_jwk; }
  /// Its RFC 7638 thumbprint: base64url(SHA-256(public_jwk)), what a bound token's cnf.jkt says.
  const std::string& thumbprint() const { return m_thumbprint; }

  /// A proof (RFC 9449 4.2) for `method` at `url`: typ dpop+jwt, the public jwk, a fresh
  /// 128-bit jti, htm, htu (the URL without query and fragment), iat; `ath` when
  /// `access_token` is not empty (7.1), `nonce` when `nonce` is not empty (8, 9).
  Result<std::string> proof(std::string_view method, std::string_view url,
                            std::string_view access_token, std::string_view nonce) const;

 private:
  struct Pkey;
  explicit DpopKey(std::unique_ptr<Pkey> key);
  static Result<std::shared_ptr<const DpopKey>> make(std::unique_ptr<Pkey> key);
  std::unique_ptr<Pkey> m_key;
  std::string m_jwk;
  std::string m_thumbprint;
};

/// RFC 9449 4.2 htu: `url` without its query and fragment.
std::string dpop_htu(std::string_view url);

/// The DPoP state of one bridge, shared by its token requests and its MCP requests: the key
/// in force, and the last nonce each origin handed out (RFC 9449 8 and 9). Thread-safe.
class DpopSession {
 public:
  void set_key(std::shared_ptr<const DpopKey> key);
  std::shared_ptr<const DpopKey> key() const;

  /// A proof for `method` at `url` with the nonce last seen from its origin; `access_token`
  /// as in DpopKey::proof. Fails when there is no key.
  Result<std::string> proof(std::string_view method, std::string_view url,
                            std::string_view access_token = {}) const;
  /// Remembers a DPoP-Nonce `url`'s origin sent (ignored when empty or over 1 KiB).
  void remember_nonce(std::string_view url, std::string_view nonce);
  std::string nonce(std::string_view url) const;

 private:
  mutable std::mutex m_mutex;
  std::shared_ptr<const DpopKey> m_key;
  std::map<std::string, std::string> m_nonces;  ///< origin -> nonce
};

}  // namespace claribi::oauth
