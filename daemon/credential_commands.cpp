// key set / key remove / logout / status: the credential commands, for a person at a
// terminal. Their output goes to stdout (these are not MCP sessions), errors to stderr.
#include "daemon/credential_commands.hpp"

#include "daemon/credentials.hpp"
#include "oauth/http.hpp"
#include "oauth/oauth.hpp"
#include "util/json.hpp"
#include "util/jsonrpc.hpp"
#include "util/log.hpp"
#include "util/platform.hpp"
#include "util/text.hpp"
#include "util/url.hpp"

#include <curl/curl.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>

namespace claribi::daemon {
namespace {

constexpr auto k_timeout = std::chrono::seconds(60);

using keychain::Key;
using keychain::Keychain;
using keychain::SecretKind;

std::string masked(const std::string& secret) {
  if (secret.size() < 12) return "**** (" + std::to_string(secret.size()) + " characters)";
  return "****" + secret.substr(secret.size() - 4);
}

std::string what_secret(SecretKind kind) {
  switch (kind) {
    case SecretKind::client_secret:
      return "OAuth client secret";
    case SecretKind::client_key:
      return "OAuth client private key";
    case SecretKind::idp_token:
      return "identity provider ID token";
    default:
      return "API key";
  }
}

/// The key typed at the terminal without echo, or everything piped on stdin. A PEM private
/// key (`kind` client-key) is several lines, piped.
Result<std::string> read_secret(const std::string& server, SecretKind kind) {
  std::string secret;
  const bool multiline = kind == SecretKind::client_key;
  if (platform::stdin_is_terminal() && !multiline) {
    std::cerr << what_secret(kind) << " for " << server << " (input hidden): " << std::flush;
    {
      platform::HiddenInput hidden;
      std::getline(std::cin, secret);
    }
    std::cerr << "\n";
  } else {
    char buf[4096];
    for (;;) {
      long n = platform::read_stdin(buf, sizeof buf);
      if (n <= 0) break;
      secret.append(buf, static_cast<std::size_t>(n));
      if (secret.size() > (1u << 20)) return fail("the key on stdin is longer than 1 MiB");
    }
  }
  secret = std::string(text::trim(secret));
  if (secret.empty()) return fail("no key given: type it at the prompt or pipe it on stdin");
  if (multiline) {
    if (secret.find("-----BEGIN") == std::string::npos ||
        secret.find("PRIVATE KEY") == std::string::npos) {
      return fail("the client key must be a PEM private key, piped on stdin");
    }
    return secret;
  }
  for (char c : secret) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return fail("the key contains a line break or control character; give one key on one line");
    }
  }
  return secret;
}

bool is_claribi(const std::string& server) {
  auto url = parse_url(server);
  if (!url) return false;
  auto host = text::lower(url->host);
  return host == "claribi.com" ||
         (host.size() > 12 && host.compare(host.size() - 12, 12, ".claribi.com") == 0);
}

std::string describe_tokens(const std::string& value) {
  auto doc = json::parse_or_null(value);
  if (!doc.IsObject()) return "unreadable token set";
  std::string out;
  if (const auto* at = json::member(doc, "access_token"); at && at->IsString()) {
    out = "access token " + masked(at->GetString());
  }
  if (const auto* exp = json::member(doc, "expires_at"); exp && exp->IsNumber()) {
    auto t = static_cast<std::time_t>(exp->GetDouble());
    char when[32];
    std::tm tm = platform::utc_time(t);
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
    out += std::string(t < std::time(nullptr) ? ", expired " : ", expires ") + when;
  }
  if (const auto* rt = json::member(doc, "refresh_token"); rt && rt->IsString()) {
    out += ", refresh token stored";
  }
  if (const auto* jkt = json::member(doc, "dpop_jkt"); jkt && jkt->IsString()) {
    out += ", DPoP-bound";
  }
  return out.empty() ? "token set" : out;
}

std::string describe_client(const std::string& value) {
  auto doc = json::parse_or_null(value);
  const auto* regs = json::member(doc, "registrations");
  if (regs == nullptr || !regs->IsObject() || regs->MemberCount() == 0) {
    return "no client registration";
  }
  std::string out;
  for (const auto& r : regs->GetObject()) {
    out += out.empty() ? "" : "; ";
    out += "client " + std::string(json::string_or_empty(json::member(r.value, "client_id"))) +
           " at " + r.name.GetString();
    if (json::member(r.value, "client_secret") != nullptr) out += " (with a client secret)";
  }
  return out;
}

int report(const Error& e);

/// login: an unauthenticated POST shows what the server asks for; then the login runs.
int login(const Invocation& inv, StdoutWriter& out) {
  auto options = inv.oauth;
  options.read_line = []() -> std::optional<std::string> {
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    return line;
  };
  oauth::CurlHttpClient http;
  http.trust = options.trust;
  http.allow_http = options.allow_http;
  http.connect_timeout_ms = options.connect_timeout_ms;
  oauth::Challenge challenge;
  auto probe = http.post(
      options.server.text, "application/json",
      jsonrpc::request("1", "initialize",
                       "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":"
                       "{\"name\":\"claribi-bridge\",\"version\":\"" CLARIBI_VERSION "\"}}"),
      {"Accept: application/json, text/event-stream"});
  if (probe && (probe->status == 401 || probe->status == 403)) {
    challenge = oauth::parse_challenge(probe->status, probe->www_authenticate);
  } else if (probe) {
    log::write(log::Level::info, "the server answered HTTP " + std::to_string(probe->status) +
                                     " without credentials; logging in anyway");
  } else {
    return report(probe.error());
  }
  oauth::Authorizer authorizer(options);
  auto t = authorizer.login(challenge);
  if (!t) return report(t.error());
  out.write_line("Logged in to " + inv.server + " (" + describe_tokens(t->to_json()) + "; in " +
                 inv.store->backend_name() + ").");
  return 0;
}

/// Whether the server answers HTTP at all (any status counts); no credentials are sent.
std::string reachability(const std::string& server, const tls::Trust* trust) {
  CURL* e = curl_easy_init();
  if (e == nullptr) return "not checked";
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(e, CURLOPT_URL, server.c_str());
  curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  tls::apply(e, trust);
  auto rc = curl_easy_perform(e);
  long status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(e);
  if (rc != CURLE_OK) {
    return std::string("unreachable: ") + (error[0] != 0 ? error : curl_easy_strerror(rc));
  }
  return "reachable (HTTP " + std::to_string(status) + ")";
}

template <class T>
Result<T> with_store(const Invocation& inv, std::function<Result<T>(Keychain&)> fn) {
  return keychain::call_with_timeout<T>(inv.store, std::move(fn), k_timeout);
}

int report(const Error& e) {
  log::write(log::Level::error, e.message);
  return 1;
}

int key_set(const Invocation& inv, StdoutWriter& out) {
  auto secret = read_secret(inv.server, inv.key_kind);
  if (!secret) return report(secret.error());
  log::add_secret(*secret);
  if (inv.key_kind != SecretKind::api_key) {
    auto account = keychain::account_name(inv.server, inv.key_kind);
    auto stored = with_store<void>(
        inv, [&, value = *secret](Keychain& k) { return k.set(Key{account}, value); });
    if (!stored) return report(stored.error());
    out.write_line("Stored the " + what_secret(inv.key_kind) + " for " + inv.server + " in " +
                   inv.store->backend_name() + ".");
    return 0;
  }
  if (is_claribi(inv.server) && secret->rfind("claribi_mcp_", 0) != 0) {
    log::write(log::Level::warn,
               "clariBI API keys start with claribi_mcp_; this one does not (a REST API key or "
               "an OAuth token will be refused). Storing it anyway.");
  }
  auto account = keychain::account_name(inv.server, SecretKind::api_key);
  auto stored = with_store<void>(
      inv, [&, value = *secret](Keychain& k) { return k.set(Key{account}, value); });
  if (!stored) return report(stored.error());
  out.write_line("Stored the API key " + masked(*secret) + " for " + inv.server + " in " +
                 inv.store->backend_name() + ".");
  return 0;
}

int key_remove(const Invocation& inv, StdoutWriter& out) {
  auto account = keychain::account_name(inv.server, inv.key_kind);
  auto what = what_secret(inv.key_kind);
  auto existing =
      with_store<std::optional<std::string>>(inv, [&](Keychain& k) { return k.get(Key{account}); });
  if (!existing) return report(existing.error());
  if (!*existing) {
    out.write_line("No " + what + " is stored for " + inv.server + ".");
    return 0;
  }
  auto removed = with_store<void>(inv, [&](Keychain& k) { return k.remove(Key{account}); });
  if (!removed) return report(removed.error());
  out.write_line("Removed the " + what + " for " + inv.server + " from " +
                 inv.store->backend_name() + ".");
  return 0;
}

int logout(const Invocation& inv, StdoutWriter& out) {
  auto accounts = with_store<std::vector<std::string>>(
      inv, [&](Keychain& k) { return k.list(inv.server + "#"); });
  if (!accounts) return report(accounts.error());
  if (accounts->empty()) {
    out.write_line("Nothing is stored for " + inv.server + ".");
    return 0;
  }
  for (const auto& account : *accounts) {
    auto removed = with_store<void>(inv, [&](Keychain& k) { return k.remove(Key{account}); });
    if (!removed) return report(removed.error());
    auto parsed = keychain::parse_account(account);
    if (!parsed) {
      out.write_line("Removed " + account + ".");
    } else {  // a login kept apart by --resource is named
      out.write_line("Removed " + std::string(kind_name(parsed->kind)) +
                     (parsed->server == inv.server ? "" : " of " + parsed->server) + ".");
    }
  }
  out.write_line("Logged out of " + inv.server + ".");
  return 0;
}

int status(const Invocation& inv, StdoutWriter& out) {
  out.write_line("Credential store: " + inv.store->backend_name());
  auto accounts = with_store<std::vector<std::string>>(
      inv, [&](Keychain& k) { return k.list(inv.all_servers ? std::string() : inv.server + "#"); });
  if (!accounts) {
    out.write_line("  unavailable: " + accounts.error().message);
    return 1;
  }
  out.write_line("  available");
  std::map<std::string, std::vector<std::pair<SecretKind, std::string>>> servers;
  if (!inv.all_servers) servers[inv.server];
  for (const auto& account : *accounts) {
    auto parsed = keychain::parse_account(account);
    if (!parsed) continue;
    auto value = with_store<std::optional<std::string>>(
        inv, [&](Keychain& k) { return k.get(Key{account}); });
    std::string what;
    if (!value) {
      what = "unreadable: " + value.error().message;
    } else if (!*value) {
      continue;
    } else if (parsed->kind == SecretKind::api_key) {
      what = masked(**value);
    } else if (parsed->kind == SecretKind::oauth_tokens) {
      what = describe_tokens(**value);
    } else if (parsed->kind == SecretKind::oauth_client) {
      what = describe_client(**value);
    } else if (parsed->kind == SecretKind::client_key) {
      what = "PEM private key stored";
    } else if (parsed->kind == SecretKind::dpop_key) {
      what = "P-256 key the OAuth tokens are bound to (DPoP)";
    } else {
      what = masked(**value);
    }
    servers[parsed->server].emplace_back(parsed->kind, what);
  }
  if (servers.empty()) out.write_line("No secrets are stored.");
  auto env_key = api_key_from_env(std::getenv("CLARIBI_API_KEY")
                                      ? std::optional<std::string>(std::getenv("CLARIBI_API_KEY"))
                                      : std::nullopt);
  for (const auto& [server, secrets] : servers) {
    out.write_line("");
    out.write_line(server);
    if (secrets.empty()) out.write_line("  nothing stored");
    for (const auto& [kind, what] : secrets) {
      out.write_line("  " + std::string(kind_name(kind)) + ": " + what);
    }
    if (!env_key) {
      out.write_line("  CLARIBI_API_KEY: " + env_key.error().message);
    } else if (*env_key) {
      out.write_line("  CLARIBI_API_KEY is set (" + masked(**env_key) +
                     ") and is used instead of a stored API key");
    }
    out.write_line("  server: " + reachability(server, inv.bridge.remote.trust.get()));
  }
  return 0;
}

}  // namespace

int run_credential_command(const Invocation& inv, StdoutWriter& out) {
  switch (inv.command) {
    case Invocation::Command::key_set:
      return key_set(inv, out);
    case Invocation::Command::key_remove:
      return key_remove(inv, out);
    case Invocation::Command::logout:
      return logout(inv, out);
    case Invocation::Command::status:
      return status(inv, out);
    case Invocation::Command::login:
      return login(inv, out);
    default:
      return 2;
  }
}

}  // namespace claribi::daemon
