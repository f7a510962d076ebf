#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.hpp"
#include "util/tls_trust.hpp"

namespace claribi::oauth {

struct HttpResponse {
  long status = 0;
  std::string content_type;  ///< media type only, lower-case
  std::string www_authenticate;
  std::string body;
  std::string dpop_nonce = {};  ///< a DPoP-Nonce header (RFC 9449 8)
};

using Form = std::vector<std::pair<std::string, std::string>>;

/// application/x-www-form-urlencoded (RFC 6749 appendix B).
std::string form_encode(const Form& form);
/// Decodes a query component ('+' is a space).
std::string query_decode(std::string_view s);
/// The name=value pairs of a query string, decoded, in order.
Form parse_query(std::string_view query);
/// `url` with `form` appended to its query (after '?' or '&').
std::string append_query(const std::string& url, const Form& form);

/// The blocking HTTP calls of the OAuth flow (metadata, registration, tokens), on the
/// calling thread, never the io thread. An interface, so the flows can be tested against a
/// scripted server.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Result<HttpResponse> get(const std::string& url) = 0;
  virtual Result<HttpResponse> post(const std::string& url, const std::string& content_type,
                                    const std::string& body,
                                    const std::vector<std::string>& headers = {}) = 0;
  Result<HttpResponse> post_form(const std::string& url, const Form& form,
                                 const std::vector<std::string>& headers = {});
};

/// libcurl easy handles. Bodies over 1 MiB are refused; plain http only to loopback hosts
/// unless allowed.
class CurlHttpClient final : public HttpClient {
 public:
  std::shared_ptr<const tls::Trust> trust;
  bool allow_http = false;
  long timeout_ms = 30000;
  long connect_timeout_ms = 0;  ///< 0: libcurl's own

  Result<HttpResponse> get(const std::string& url) override;
  Result<HttpResponse> post(const std::string& url, const std::string& content_type,
                            const std::string& body,
                            const std::vector<std::string>& headers = {}) override;

 private:
  Result<HttpResponse> perform(const std::string& method, const std::string& url,
                               const std::string* content_type, const std::string* body,
                               const std::vector<std::string>& headers) const;
};

}  // namespace claribi::oauth
