// What the OAuth client reads from outside that its headers declare: WWW-Authenticate
// challenges (a 401 or 403 from the remote), the stored token set (TokenSet::from_json, from
// the keychain or the 0600 file store) and query strings (the login callback, the address a
// user pastes for login --manual). What authorization servers answer (metadata,
// registration, tokens) is fuzz_oauth_answers' part.
//
// Input: byte 0 picks the status (odd: 403, even: 401); the rest is tried as each of the
// three.
#include "oauth/http.hpp"
#include "oauth/oauth.hpp"
#include "tests/fuzz/fuzz_input.hpp"
#include "util/json.hpp"

#include <string>

using namespace claribi;
using namespace claribi::oauth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = fuzz::as_text(data, size);
  long status = (fuzz::take_byte(in) & 1) != 0 ? 403 : 401;

  auto c = parse_challenge(status, in);
  fuzz::check(c.status == status, "the challenge keeps its status");
  for (const auto* param : {&c.resource_metadata, &c.scope, &c.error, &c.error_description}) {
    fuzz::check(param->size() <= in.size(), "a parameter is no longer than the header");
  }
  (void)c.insufficient_scope();

  if (auto t = TokenSet::from_json(in)) {
    fuzz::check(!t->access_token.empty(), "a token set has an access token");
    fuzz::check(!t->token_type.empty(), "a token set has a token type");
    auto text = t->to_json();
    json::Document doc;
    fuzz::check(static_cast<bool>(json::parse(doc, text)), "to_json writes JSON");
    auto back = TokenSet::from_json(text);
    fuzz::check(static_cast<bool>(back), "a written token set reads back");
    fuzz::check(back->access_token == t->access_token && back->token_type == t->token_type &&
                    back->refresh_token == t->refresh_token && back->scope == t->scope &&
                    back->issuer == t->issuer && back->token_endpoint == t->token_endpoint &&
                    back->client_id == t->client_id && back->auth_method == t->auth_method &&
                    back->resource == t->resource,
                "a token set's strings survive the round trip");
  }

  auto form = parse_query(in);
  fuzz::check(parse_query(form_encode(form)) == form, "form_encode and parse_query round-trip");
  (void)query_decode(in);
  auto appended = append_query("https://as.example/authorize?tenant=t", form);
  fuzz::check(appended.rfind("https://as.example/authorize?tenant=t", 0) == 0,
              "append_query keeps the URL it appends to");
  return 0;
}
