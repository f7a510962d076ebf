#pragma once

// A scripted authorization server for the OAuth units: answers by method and URL, records
// every request.

#include "oauth/http.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace claribi::test {

struct SeenRequest {
  std::string method;
  std::string url;
  std::string body;
  std::vector<std::string> headers;
};

class FakeOAuthHttp final : public oauth::HttpClient {
 public:
  using Handler = std::function<oauth::HttpResponse(const SeenRequest&)>;

  /// Answers `method url` with `status` and `body` (404 for anything not scripted).
  void on(const std::string& method, const std::string& url, long status, std::string body) {
    m_routes[method + " " + url] = [status, body](const SeenRequest&) {
      return oauth::HttpResponse{status, "application/json", "", body};
    };
  }
  void on(const std::string& method, const std::string& url, Handler h) {
    m_routes[method + " " + url] = std::move(h);
  }

  Result<oauth::HttpResponse> get(const std::string& url) override {
    return answer({"GET", url, "", {}});
  }
  Result<oauth::HttpResponse> post(const std::string& url, const std::string& /*content_type*/,
                                   const std::string& body,
                                   const std::vector<std::string>& headers) override {
    return answer({"POST", url, body, headers});
  }

  std::vector<SeenRequest> seen;

  /// How many requests went to `method url`.
  int count(const std::string& method, const std::string& url) const {
    int n = 0;
    for (const auto& s : seen) n += s.method == method && s.url == url ? 1 : 0;
    return n;
  }

 private:
  Result<oauth::HttpResponse> answer(SeenRequest r) {
    seen.push_back(r);
    auto it = m_routes.find(r.method + " " + r.url);
    if (it == m_routes.end()) return oauth::HttpResponse{404, "text/plain", "", "not found"};
    return it->second(r);
  }

  std::map<std::string, Handler> m_routes;
};

}  // namespace claribi::test
