// URLs from outside: the server URL (command line, client config), endpoints and metadata
// locations a remote names (resolved against it), and what is derived from them: the OAuth
// metadata locations (RFC 9728, RFC 8414; Aiven-style URLs carry a query), the resource
// check, the keychain's server name and account names.
//
// Input: up to three lines: the server URL, a reference to resolve against it, a
// protected resource metadata `resource` to check against it.
#include "keychain/keychain.hpp"
#include "oauth/oauth.hpp"
#include "tests/fuzz/fuzz_input.hpp"
#include "util/url.hpp"

#include <string>

using namespace claribi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto lines = fuzz::split(fuzz::as_text(data, size), 3, '\n');
  auto server_text = lines[0];
  auto reference = lines[1];
  auto resource = lines[2];

  // The view itself, not a copy: an empty view must not make libcurl fall back to strlen.
  fuzz::check(percent_decode(percent_encode(reference)) == reference,
              "percent_decode undoes percent_encode");

  auto server = parse_url(server_text);
  auto canonical = keychain::canonical_server(server_text);
  fuzz::check(static_cast<bool>(server) == static_cast<bool>(canonical),
              "a server has a keychain name exactly when its URL parses");
  if (!server) return 0;
  fuzz::check(server->scheme == "http" || server->scheme == "https", "only http(s) URLs parse");
  fuzz::check(!server->host.empty(), "a parsed URL has a host");
  auto again = parse_url(server->text);
  fuzz::check(static_cast<bool>(again), "a parsed URL's text parses again");
  (void)server->is_loopback();
  (void)display_url(*server);

  for (auto kind : {keychain::SecretKind::api_key, keychain::SecretKind::oauth_tokens}) {
    auto account = keychain::parse_account(keychain::account_name(*canonical, kind));
    fuzz::check(account && account->server == *canonical && account->kind == kind,
                "an account name parses back to its server and kind");
  }

  for (const auto& url : oauth::resource_metadata_urls(*server)) {
    fuzz::check(static_cast<bool>(parse_url(url)), "resource metadata locations are URLs");
  }
  for (const auto& url : oauth::authorization_server_metadata_urls(*server)) {
    fuzz::check(static_cast<bool>(parse_url(url)),
                "authorization server metadata locations are URLs");
  }
  fuzz::check(oauth::resource_matches(server->text, *server), "a server's own URL names it");
  (void)oauth::resource_matches(resource, *server);

  if (auto resolved = resolve_url(*server, reference)) {
    fuzz::check(static_cast<bool>(parse_url(resolved->text)), "a resolved URL parses");
  }
  return 0;
}
