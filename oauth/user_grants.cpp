#include "oauth/user_grants.hpp"

#include "oauth/answers.hpp"
#include "oauth/browser.hpp"
#include "oauth/crypto.hpp"
#include "oauth/loopback.hpp"
#include "oauth/scopes.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace claribi::oauth {
namespace {

void announce(const Options& o, const std::string& url) {
  if (o.interaction == Interaction::browser) {
    if (auto b = open_browser(url); !b) {
      log::write(log::Level::warn, "could not open a browser (" + b.error().message +
                                       "). To sign in, open this URL: " + url);
      return;
    }
    log::write(log::Level::info,
               "opened the browser to sign in; if nothing appeared, open: " + url);
    return;
  }
  log::write(log::Level::warn,
             "To sign in to " + display_url(o.server) + ", open this URL in a browser: " + url);
  if (o.interaction == Interaction::manual) {
    log::write(log::Level::warn,
               "Then paste here the full address the browser ends on (it starts with "
               "http://" +
                   o.callback_host + ") and press Enter.");
  }
}

Result<Form> read_pasted_redirect(const Options& o, const std::string& state) {
  if (!o.read_line) return fail("no terminal to read the redirect URL from");
  auto line = o.read_line();
  if (!line) return fail("no redirect URL was pasted");
  auto s = std::string(text::trim(*line));
  auto q = s.find('?');
  if (q == std::string::npos) return fail("the pasted text is not the redirect URL (no '?')");
  auto params = parse_query(std::string_view(s).substr(q + 1, s.find('#') - q - 1));
  for (const auto& [k, v] : params) {
    if (k == "state" && v == state) return params;
  }
  return fail("the pasted URL does not belong to this login (state mismatch)");
}

std::optional<std::string> value(const Form& params, const char* name) {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return std::nullopt;
}

}  // namespace

Result<std::pair<std::string, std::string>> authorize_param(std::string_view arg) {
  struct Owned {
    const char* name;
    const char* instead;
  };
  static constexpr Owned k_owned[] = {
      {"response_type", ""},
      {"response_mode", " (the callback takes the answer in the query)"},
      {"client_id", "; use --client-id"},
      {"redirect_uri", "; use --callback-host, --callback-port and --callback-path"},
      {"state", ""},
      {"code_challenge", ""},
      {"code_challenge_method", ""},
      {"resource", "; use --resource, or --no-resource-param"},
      {"scope", "; use --scope"},
      {"request", " (a request object would replace the others)"},
      {"request_uri", " (a request object would replace the others)"},
  };
  auto eq = arg.find('=');
  auto name = std::string(text::trim(arg.substr(0, eq)));
  if (eq == std::string_view::npos || name.empty()) {
    return fail("--authorize-param takes KEY=VALUE (e.g. prompt=consent), not '" +
                std::string(arg) + "'");
  }
  for (const auto& owned : k_owned) {
    if (text::lower(name) == owned.name) {
      return fail("--authorize-param cannot set '" + name +
                  "': claribi-bridge sets it for each login" + owned.instead);
    }
  }
  return std::make_pair(name, std::string(arg.substr(eq + 1)));
}

Result<TokenSet> code_grant(const GrantContext& g, const Discovery& d,
                            const std::vector<std::string>& scopes) {
  const auto& o = g.options;
  if (d.as.from_metadata &&
      (!d.as.has_challenge_methods || !contains(d.as.challenge_methods, "S256"))) {
    return fail("the authorization server " + d.as.issuer +
                " does not advertise PKCE with S256 (code_challenge_methods_supported); "
                "the bridge will not log in without it");
  }
  if (d.as.authorization_endpoint.empty()) {
    return fail("the authorization server metadata has no authorization_endpoint");
  }
  for (int attempt = 0;; ++attempt) {
    // Reuse the port of an earlier registration, so its redirect URI still matches.
    int port = o.callback_port;
    std::optional<Registration> reg;
    if (o.client_id.empty()) reg = g.store.registration(d.as.issuer);
    if (reg && port == 0) {
      auto u = parse_url(reg->redirect_uri);
      if (u && !u->port.empty()) port = std::atoi(u->port.c_str());
    }
    const CallbackAddress where{o.callback_host, o.callback_path,
                                o.callback_host == "localhost" && localhost_resolves_to_ipv6()};
    auto listener = CallbackListener::open(port, where);
    if (!listener && port != 0 && o.callback_port == 0) {
      listener = CallbackListener::open(0, where);
    }
    if (!listener) return fail(listener.error().message);
    auto redirect_uri = (*listener)->redirect_uri();
    auto cl = g.clients.for_code_grant(d, redirect_uri, reg);
    if (!cl) return fail(cl.error().message);
    auto pkce = make_pkce();
    auto state = random_token(24);
    if (!pkce || !state) return fail("cannot make the login's random values");
    Form query{{"response_type", "code"},           {"client_id", cl->id},
               {"redirect_uri", redirect_uri},      {"state", *state},
               {"code_challenge", pkce->challenge}, {"code_challenge_method", "S256"}};
    if (!d.resource.empty()) query.emplace_back("resource", d.resource);
    if (!scopes.empty()) query.emplace_back("scope", join_words(scopes));
    query.insert(query.end(), o.authorize_params.begin(), o.authorize_params.end());
    auto url = append_query(d.as.authorization_endpoint, query);
    log::add_secret(pkce->verifier);
    announce(o, url);
    auto params = o.interaction == Interaction::manual
                      ? read_pasted_redirect(o, *state)
                      : (*listener)->wait(*state, std::chrono::milliseconds(o.login_timeout_ms));
    if (!params) return fail(params.error().message);
    auto finish = [&](bool ok, const std::string& message) { (*listener)->finish(ok, message); };
    if (auto err = value(*params, "error")) {
      auto desc = value(*params, "error_description").value_or("");
      if (cl->registered && attempt == 0 &&
          (*err == "invalid_client" || *err == "unauthorized_client")) {
        finish(false,
               "The authorization server no longer knows this client; claribi-bridge "
               "registers again and opens a new sign-in page.");
        g.store.store_registration(d.as.issuer, std::nullopt);
        continue;
      }
      auto msg = "the authorization server refused the login: " + *err +
                 (desc.empty() ? "" : " (" + desc + ")");
      finish(false, "Sign-in did not complete: " + *err + (desc.empty() ? "" : " — " + desc));
      return fail(msg);
    }
    // RFC 9207: the response names its issuer; it must be the one we asked.
    auto iss = value(*params, "iss");
    if (iss && *iss != d.as.issuer) {
      finish(false, "The sign-in response came from an unexpected issuer; it was rejected.");
      return fail("the authorization response names the issuer '" + *iss + "', not '" +
                  d.as.issuer + "' (RFC 9207): possible mix-up attack, login abandoned");
    }
    if (!iss && d.as.iss_supported) {
      finish(false, "The sign-in response lacks the issuer it must carry; it was rejected.");
      return fail(
          "the authorization server advertises the iss parameter but the response has none "
          "(RFC 9207): login abandoned");
    }
    auto code = value(*params, "code");
    if (!code || code->empty()) {
      finish(false, "The sign-in response carries no authorization code.");
      return fail("the authorization response carries no code");
    }
    log::add_secret(*code);
    std::string error_code;
    auto t = g.tokens.request({{"grant_type", "authorization_code"},
                               {"code", *code},
                               {"redirect_uri", redirect_uri},
                               {"code_verifier", pkce->verifier}},
                              *cl, d, &error_code);
    if (!t) {
      if (cl->registered && error_code == "invalid_client") {
        g.store.store_registration(d.as.issuer, std::nullopt);  // register again next time
      }
      finish(false, "Sign-in did not complete: " + t.error().message);
      return fail(t.error().message);
    }
    if (t->scope.empty()) t->scope = join_words(scopes);
    finish(true, "claribi-bridge is signed in to " + display_url(o.server) +
                     ". You can close this tab and return to your MCP client.");
    return t;
  }
}

Result<TokenSet> device_grant(const GrantContext& g, const Discovery& d,
                              const std::vector<std::string>& scopes) {
  const auto& o = g.options;
  if (d.as.device_authorization_endpoint.empty()) {
    return fail("the authorization server " + d.as.issuer +
                " does not offer the device authorization grant; use 'login --manual'");
  }
  auto cl = g.clients.for_device_grant(d);
  if (!cl) return fail(cl.error().message);
  Form form;
  if (!scopes.empty()) form.emplace_back("scope", join_words(scopes));
  if (!d.resource.empty()) form.emplace_back("resource", d.resource);
  std::vector<std::string> headers;
  if (auto a = TokenEndpoint::authenticate(form, headers, *cl, d.as.issuer); !a) {
    return fail(a.error().message);
  }
  auto r = g.http.post_form(d.as.device_authorization_endpoint, form, headers);
  if (!r) return fail("device authorization failed: " + r.error().message);
  if (r->status != 200) {
    return fail("the device authorization endpoint refused (" + error_text(r->status, r->body) +
                ")");
  }
  auto a = read_device_authorization(r->status, r->body);
  if (!a) return fail(a.error().message);
  log::add_secret(a->device_code);
  long interval = a->interval_s;
  long expires = o.login_timeout_ms / 1000;
  if (a->expires_in_s >= 0) expires = std::min(expires, a->expires_in_s);
  log::write(log::Level::warn, "To sign in to " + display_url(o.server) + ", visit " +
                                   a->verification_uri + " on any device and enter the code " +
                                   a->user_code +
                                   (a->verification_uri_complete.empty()
                                        ? ""
                                        : " (or open " + a->verification_uri_complete + ")"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(expires);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::seconds(interval));
    if (std::chrono::steady_clock::now() > deadline) {
      return fail("the code was not entered within " + std::to_string(expires) + " s");
    }
    std::string error_code;
    auto t = g.tokens.request({{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
                               {"device_code", a->device_code}},
                              *cl, d, &error_code);
    if (t) {
      if (t->scope.empty()) t->scope = join_words(scopes);
      return t;
    }
    if (error_code == "authorization_pending") continue;
    if (error_code == "slow_down") {
      interval += 5;
      continue;
    }
    return fail(t.error().message);
  }
}

}  // namespace claribi::oauth
