#pragma once

// Who the bridge is to an authorization server: a pre-registered client (--client-id, with
// its secret or private key from the keychain), a Client ID Metadata Document URL, or a
// client it registered itself (RFC 7591), remembered per authorization server.

#include <optional>
#include <string>

#include "oauth/discovery.hpp"
#include "oauth/http.hpp"
#include "oauth/store.hpp"

namespace claribi::oauth {

struct Client {
  std::string id;
  std::string secret;
  std::string private_key;
  std::string auth_method = "none";  ///< token endpoint client authentication
  bool registered = false;           ///< by us, through Dynamic Client Registration
};

class ClientIdentity {
 public:
  /// `client_id` / `client_metadata_url`: --client-id and --client-metadata-url (may be empty).
  ClientIdentity(HttpClient& http, OAuthStore& store, std::string client_id,
                 std::string client_metadata_url);

  const std::string& configured_id() const { return m_client_id; }

  /// The --client-id client, with its private key or secret when one is stored.
  Result<Client> pre_registered(const AsMetadata& as);
  /// Registers with `d.as` (for the device grant when `device`) and remembers it under
  /// `d.as.issuer`.
  Result<Client> register_client(const Discovery& d, const std::string& redirect_uri,
                                 bool device = false);
  /// The client for a code grant redirecting to `redirect_uri`; `cached` is the
  /// registration stored for this authorization server, if any.
  Result<Client> for_code_grant(const Discovery& d, const std::string& redirect_uri,
                                const std::optional<Registration>& cached);
  /// The client for the device grant.
  Result<Client> for_device_grant(const Discovery& d);
  /// The client that obtained `old` (for a refresh), with its credentials.
  Result<Client> for_refresh(const TokenSet& old);

  static Client from_registration(const Registration& reg);

 private:
  HttpClient& m_http;
  OAuthStore& m_store;
  std::string m_client_id;
  std::string m_client_metadata_url;
};

}  // namespace claribi::oauth
