#pragma once

// What an authorization server (or an identity provider) sends back, read without any I/O:
// metadata documents, registration, token and device authorization answers, error answers.
// Every function here takes the raw body; the fuzz target fuzz_oauth_answers feeds them.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.hpp"
#include "util/result.hpp"

namespace claribi::oauth {

/// Authorization server metadata (RFC 8414 2, with the OpenID Connect and MCP additions).
struct AsMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string registration_endpoint;
  std::string device_authorization_endpoint;
  std::vector<std::string> scopes_supported;
  std::vector<std::string> auth_methods;  ///< token_endpoint_auth_methods_supported
  bool has_auth_methods = false;
  std::vector<std::string> challenge_methods;
  bool has_challenge_methods = false;
  bool iss_supported = false;
  bool cimd_supported = false;
  std::vector<std::string> dpop_algs;  ///< dpop_signing_alg_values_supported (RFC 9449 5.1)
  bool from_metadata = true;           ///< false: the 2025-03-26 default endpoints
};

/// Protected resource metadata (RFC 9728 2).
struct ResourceMetadata {
  std::string resource;
  std::vector<std::string> scopes_supported;
  std::vector<std::string> authorization_servers;
};

/// A Dynamic Client Registration answer (RFC 7591 3.2.1).
struct RegisteredClient {
  std::string client_id;
  std::string client_secret;
  std::string auth_method;  ///< token_endpoint_auth_method; empty when not said
};

/// What a token endpoint grants (RFC 6749 5.1). Lifetimes are relative to `now`.
struct TokenAnswer {
  std::string access_token;
  std::string token_type;  ///< "Bearer" when absent or any case of it
  std::string refresh_token;
  std::string scope;
  std::int64_t expires_in = -1;  ///< -1: not said; at most ten years
};

/// A device authorization answer (RFC 8628 3.2).
struct DeviceAuthorization {
  std::string device_code;
  std::string user_code;
  std::string verification_uri;
  std::string verification_uri_complete;
  long interval_s = 5;     ///< 1..600
  long expires_in_s = -1;  ///< -1: not said
};

/// The body as a JSON object, or an error naming `what` and the status.
Result<json::Document> json_object(long status, std::string_view body, const std::string& what);
/// "HTTP 400, error: description" of an OAuth error answer (RFC 6749 5.2), or the status and
/// a one-line snippet of whatever else came. `code` receives the error code when there is one.
std::string error_text(long status, std::string_view body, std::string* code = nullptr);

/// The strings of a JSON array member (others skipped); empty when absent or not an array.
std::vector<std::string> string_array(const json::Value* v);
/// A string member, empty when absent or not a string.
std::string string_member(const json::Value& doc, const char* name);

/// Requires a token_endpoint; checks nothing about the issuer (that is discovery's rule).
Result<AsMetadata> read_as_metadata(const json::Value& doc);
/// Requires `resource` and at least one authorization server.
Result<ResourceMetadata> read_resource_metadata(const json::Value& doc);
Result<RegisteredClient> read_registration(long status, std::string_view body);
Result<TokenAnswer> read_token_answer(long status, std::string_view body);
Result<DeviceAuthorization> read_device_authorization(long status, std::string_view body);

}  // namespace claribi::oauth
