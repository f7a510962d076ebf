#include "oauth/http.hpp"

#include "util/log.hpp"
#include "util/text.hpp"
#include "util/url.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace claribi::oauth {
namespace {

constexpr std::size_t k_max_body = std::size_t{1} << 20;

struct Sink {
  std::string body;
  std::string content_type;
  std::string www_authenticate;
  std::string dpop_nonce;
  bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  if (sink->body.size() + size * n > k_max_body) {
    sink->too_large = true;
    return 0;
  }
  sink->body.append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  std::string_view line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    auto name = text::lower(text::trim(line.substr(0, colon)));
    auto value = std::string(text::trim(line.substr(colon + 1)));
    if (name == "content-type") {
      auto semi = value.find(';');
      sink->content_type = text::lower(text::trim(value.substr(0, semi)));
    } else if (name == "www-authenticate") {
      sink->www_authenticate += sink->www_authenticate.empty() ? value : ", " + value;
    } else if (name == "dpop-nonce") {
      sink->dpop_nonce = value;
    }
  } else if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after a redirect or 100-continue): forget the previous one's headers.
    *sink = Sink{};
  }
  return size * n;
}

}  // namespace

std::string query_decode(std::string_view s) {
  std::string plus(s);
  for (auto& c : plus) {
    if (c == '+') c = ' ';
  }
  return percent_decode(plus);
}

std::string form_encode(const Form& form) {
  std::string out;
  for (const auto& [name, value] : form) {
    if (!out.empty()) out.push_back('&');
    out += percent_encode(name) + "=" + percent_encode(value);
  }
  return out;
}

Form parse_query(std::string_view query) {
  Form out;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    out.emplace_back(query_decode(part.substr(0, eq)), eq == std::string_view::npos
                                                           ? std::string()
                                                           : query_decode(part.substr(eq + 1)));
  }
  return out;
}

std::string append_query(const std::string& url, const Form& form) {
  std::string out = url.substr(0, url.find('#'));
  if (out.find('?') == std::string::npos) {
    out.push_back('?');
  } else if (out.back() != '?' && out.back() != '&') {
    out.push_back('&');
  }
  return out + form_encode(form);
}

Result<HttpResponse> CurlHttpClient::get(const std::string& url) {
  return perform("GET", url, nullptr, nullptr, {});
}

Result<HttpResponse> CurlHttpClient::post(const std::string& url, const std::string& content_type,
                                          const std::string& body,
                                          const std::vector<std::string>& headers) {
  return perform("POST", url, &content_type, &body, headers);
}

Result<HttpResponse> HttpClient::post_form(const std::string& url, const Form& form,
                                           const std::vector<std::string>& headers) {
  return post(url, "application/x-www-form-urlencoded", form_encode(form), headers);
}

Result<HttpResponse> CurlHttpClient::perform(const std::string& method, const std::string& url,
                                             const std::string* content_type,
                                             const std::string* body,
                                             const std::vector<std::string>& headers) const {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  auto parsed = parse_url(url);
  if (!parsed) return fail("bad URL '" + url + "': " + parsed.error().message);
  if (parsed->scheme == "http" && !parsed->is_loopback() && !allow_http) {
    return fail("refusing plain http for " + display_url(*parsed) +
                ": OAuth endpoints must use https (or pass --allow-http)");
  }
  std::unique_ptr<CURL, void (*)(CURL*)> e(curl_easy_init(), curl_easy_cleanup);
  if (!e) return fail("libcurl could not start a transfer");
  Sink sink;
  char error[CURL_ERROR_SIZE] = {};
  curl_slist* list = nullptr;
  std::vector<std::string> all = headers;
  all.emplace_back("Accept: application/json");
  if (content_type != nullptr) all.push_back("Content-Type: " + *content_type);
  for (const auto& h : all) list = curl_slist_append(list, h.c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> list_guard(list, curl_slist_free_all);
  CURL* h = e.get();
  curl_easy_setopt(h, CURLOPT_URL, parsed->text.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  if (connect_timeout_ms > 0) curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "claribi-bridge/" CLARIBI_VERSION);
  tls::apply(h, trust.get());
  if (method == "GET") {
    // Metadata may sit behind a redirect; never from https down to http.
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR,
                     parsed->scheme == "http" ? "http,https" : "https");
  } else {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
  }
  auto rc = curl_easy_perform(h);
  if (sink.too_large) return fail(display_url(*parsed) + " sent more than 1 MiB");
  if (rc != CURLE_OK) {
    return fail("cannot reach " + display_url(*parsed) + ": " +
                (error[0] != 0 ? std::string(error) : std::string(curl_easy_strerror(rc))));
  }
  HttpResponse r;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  r.content_type = std::move(sink.content_type);
  r.www_authenticate = std::move(sink.www_authenticate);
  r.dpop_nonce = std::move(sink.dpop_nonce);
  r.body = std::move(sink.body);
  return r;
}

}  // namespace claribi::oauth
