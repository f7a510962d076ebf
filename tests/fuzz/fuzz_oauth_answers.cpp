// What an authorization server or identity provider answers, as the OAuth client reads it:
// authorization server and protected resource metadata, registration, token and device
// authorization answers, and error answers.
//
// Input: byte 0 picks the HTTP status (0-199: 200, else 400 + byte % 100); the rest is the
// body, given to every reader.
#include "oauth/answers.hpp"
#include "tests/fuzz/fuzz_input.hpp"

#include <string>

using namespace claribi;
using namespace claribi::oauth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = fuzz::as_text(data, size);
  auto b = fuzz::take_byte(in);
  long status = b < 200 ? 200 : 400 + b % 100;

  std::string code;
  auto text = error_text(status, in, &code);
  fuzz::check(text.rfind("HTTP " + std::to_string(status), 0) == 0, "an error names its status");
  fuzz::check(text.find('\n') == std::string::npos || !code.empty() ||
                  json::member(json::parse_or_null(in), "error") != nullptr,
              "a snippet of a non-OAuth error is one line");

  if (auto doc = json_object(status, in, "the answer")) {
    fuzz::check(doc->IsObject(), "json_object gives an object");
    if (auto m = read_as_metadata(*doc)) {
      fuzz::check(!m->token_endpoint.empty(), "metadata has a token endpoint");
      fuzz::check(m->has_auth_methods || m->auth_methods.empty(), "no methods unless listed");
      fuzz::check(m->has_challenge_methods || m->challenge_methods.empty(),
                  "no PKCE methods unless listed");
    }
    if (auto m = read_resource_metadata(*doc)) {
      fuzz::check(!m->resource.empty() && !m->authorization_servers.empty(),
                  "resource metadata names its resource and a server");
    }
  }
  if (auto r = read_registration(status, in)) {
    fuzz::check(!r->client_id.empty(), "a registration has a client id");
  }
  if (auto t = read_token_answer(status, in)) {
    fuzz::check(!t->access_token.empty(), "a token answer has an access token");
    fuzz::check(!t->token_type.empty(), "a token answer has a type");
    fuzz::check(t->expires_in >= -1 && t->expires_in <= 10LL * 365 * 24 * 3600,
                "a lifetime is bounded");
  }
  if (auto d = read_device_authorization(status, in)) {
    fuzz::check(!d->device_code.empty() && !d->user_code.empty() && !d->verification_uri.empty(),
                "a device answer has its codes");
    fuzz::check(d->interval_s >= 1 && d->interval_s <= 600, "the poll interval is bounded");
    fuzz::check(d->expires_in_s >= -1 && d->expires_in_s <= 24 * 3600, "the lifetime is bounded");
  }
  return 0;
}
