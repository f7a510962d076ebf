#include "transport/request_factory.hpp"

#include "util/text.hpp"

namespace claribi::transport {

RequestFactory::RequestFactory(const RemoteOptions& options) : m_options(options) {
  for (const auto& h : m_options.headers) {
    m_headers.push_back(h.name + ": " + h.value);
    if (text::lower(h.name) == "authorization") {
      m_authorization = std::make_shared<const std::string>(h.value);
    }
  }
}

HttpRequest RequestFactory::make(std::string method, const std::string& url,
                                 std::string_view accept, bool json_body) const {
  HttpRequest r;
  r.method = std::move(method);
  r.url = url;
  r.max_body = m_options.max_message_bytes;
  r.trust = m_options.trust;
  r.connect_timeout_ms = m_options.connect_timeout_ms;
  r.allow_http_redirects = m_options.allow_http || m_options.url.is_loopback();
  r.headers = m_headers;
  r.headers.push_back("Accept: " + std::string(accept));
  if (json_body) r.headers.emplace_back("Content-Type: application/json");
  return r;
}

void RequestFactory::set_authorization(const std::string& value) {
  std::vector<std::string> kept;
  for (auto& h : m_headers) {
    if (text::lower(h.substr(0, 14)) != "authorization:") kept.push_back(std::move(h));
  }
  kept.push_back("Authorization: " + value);
  m_headers = std::move(kept);
  m_authorization = std::make_shared<const std::string>(value);
}

}  // namespace claribi::transport
