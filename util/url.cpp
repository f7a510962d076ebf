#include "util/url.hpp"

#include "util/log.hpp"

#include <curl/curl.h>

#include <memory>

namespace claribi {
namespace {

struct UrlHandleDeleter {
  void operator()(CURLU* h) const { curl_url_cleanup(h); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlHandleDeleter>;

std::string get_part(CURLU* h, CURLUPart part, unsigned flags = 0) {
  char* value = nullptr;
  if (curl_url_get(h, part, &value, flags) != CURLUE_OK || value == nullptr) return {};
  std::string out(value);
  curl_free(value);
  return out;
}

Result<Url> from_handle(CURLU* h, std::string_view original) {
  Url url;
  url.scheme = get_part(h, CURLUPART_SCHEME);
  if (url.scheme != "http" && url.scheme != "https") {
    return fail("'" + std::string(original) + "' is not an http or https URL");
  }
  if (!get_part(h, CURLUPART_USER).empty() || !get_part(h, CURLUPART_PASSWORD).empty()) {
    return fail(
        "the URL carries a user name or password; remove it and use --header or the "
        "keychain for credentials");
  }
  url.host = get_part(h, CURLUPART_HOST);
  if (url.host.empty()) return fail("'" + std::string(original) + "' has no host");
  url.port = get_part(h, CURLUPART_PORT);
  url.path = get_part(h, CURLUPART_PATH);
  url.query = get_part(h, CURLUPART_QUERY);
  url.text = get_part(h, CURLUPART_URL);
  return url;
}

}  // namespace

bool Url::is_loopback() const {
  if (host == "localhost" || host == "[::1]" || host == "::1") return true;
  return host.rfind("127.", 0) == 0;
}

Result<Url> parse_url(std::string_view text) {
  UrlHandle h(curl_url());
  std::string s(text);
  auto rc = curl_url_set(h.get(), CURLUPART_URL, s.c_str(), 0);
  if (rc != CURLUE_OK) {
    return fail("'" + log::redact(s) + "' is not a valid absolute URL (" + curl_url_strerror(rc) +
                ")");
  }
  return from_handle(h.get(), s);
}

Result<Url> resolve_url(const Url& base, std::string_view reference) {
  UrlHandle h(curl_url());
  if (curl_url_set(h.get(), CURLUPART_URL, base.text.c_str(), 0) != CURLUE_OK) {
    return fail("invalid base URL");
  }
  std::string ref(reference);
  auto rc = curl_url_set(h.get(), CURLUPART_URL, ref.c_str(), 0);
  if (rc != CURLUE_OK) {
    return fail("cannot resolve '" + log::redact(ref) + "' against the server URL (" +
                curl_url_strerror(rc) + ")");
  }
  return from_handle(h.get(), ref);
}

std::string display_url(const Url& url) {
  return log::redact(url.text);
}

std::string percent_encode(std::string_view s) {
  if (s.empty()) return {};  // libcurl reads a length of 0 as "up to the NUL"
  // Since libcurl 7.82 the handle argument is unused.
  std::unique_ptr<char, void (*)(void*)> out(
      curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size())), curl_free);
  return out ? std::string(out.get()) : std::string();
}

std::string percent_decode(std::string_view s) {
  if (s.empty()) return {};
  int n = 0;
  std::unique_ptr<char, void (*)(void*)> out(
      curl_easy_unescape(nullptr, s.data(), static_cast<int>(s.size()), &n), curl_free);
  return out ? std::string(out.get(), static_cast<std::size_t>(n)) : std::string();
}

}  // namespace claribi
