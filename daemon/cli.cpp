#include "daemon/cli.hpp"

#include "daemon/credentials.hpp"
#include "daemon/era_cache.hpp"
#include "oauth/loopback.hpp"
#include "util/headers.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/text.hpp"
#include "util/tls_trust.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <sstream>

namespace claribi::daemon {
namespace {

constexpr const char* k_examples = R"(
Examples:
  claribi-bridge                                   bridge stdio to clariBI (https://claribi.com/mcp/v1/)
  claribi-bridge run https://mcp.example.com/mcp   bridge to another remote MCP server
  CLARIBI_API_KEY=claribi_mcp_... claribi-bridge   send this key instead of the stored one
  claribi-bridge --header 'Authorization: Bearer ${MY_TOKEN}' run https://mcp.example.com/mcp
  claribi-bridge tools http://127.0.0.1:3001/mcp   list a server's tools
  claribi-bridge call http://127.0.0.1:3001/mcp echo '{"message":"hi"}'
  claribi-bridge key set                           store clariBI's API key in the OS keychain
  claribi-bridge status                            what is stored, per server (masked)
  claribi-bridge logout https://mcp.example.com/mcp  remove every secret kept for that server

stdout carries only MCP messages; logs go to stderr or --log-file.
Proxy variables (https_proxy, no_proxy...) are honoured.
)";

Result<transport::TransportKind> parse_transport(const std::string& s) {
  if (s == "auto") return transport::TransportKind::auto_detect;
  if (s == "streamable-http") return transport::TransportKind::streamable_http;
  if (s == "sse") return transport::TransportKind::sse;
  return fail("--transport must be auto, streamable-http or sse");
}

}  // namespace

Result<Invocation> parse_command_line(int argc, char** argv, int& exit_code, std::string& printed) {
  CLI::App app{
      "claribi-bridge: a local MCP server (stdio) that proxies to a remote MCP server "
      "over streamable HTTP or HTTP+SSE.",
      "claribi-bridge"};
  app.set_version_flag("--version", std::string("claribi-bridge ") + CLARIBI_VERSION);
  app.footer(k_examples);
  app.fallthrough();

  std::vector<std::string> header_args;
  std::vector<std::string> header_files;
  std::string transport_name = "auto";
  std::string protocol_name = "auto";
  bool allow_http = false;
  double timeout_s = 300;
  std::string log_level = "info";
  std::string log_file;
  std::string ca_file;
  double max_message_mb = 64;
  bool json_output = false;
  std::string credential_store = "keychain";
  std::vector<std::string> capture_args;
  ToolPolicyOptions tool_policy;
  UploadOptions uploads;
  double max_upload_mb = 25;

  app.add_option("--header", header_args,
                 "Extra HTTP header 'Name: value' for the remote (repeatable; ${VAR} is expanded "
                 "from the environment)")
      ->allow_extra_args(false);
  app.add_option("--header-file", header_files, "File with one 'Name: value' header a line")
      ->allow_extra_args(false)
      ->check(CLI::ExistingFile);
  app.add_option("--transport", transport_name, "auto | streamable-http | sse")
      ->capture_default_str();
  app.add_option("--protocol", protocol_name,
                 "MCP era to speak to the remote: auto (ask with server/discover, fall back to "
                 "initialize; the answer is remembered for a day in the state dir), 2026 "
                 "(stateless 2026-07-28 only) or 2025 (initialize only)")
      ->check(CLI::IsMember({"auto", "2026", "2025"}))
      ->capture_default_str();
  app.add_flag("--allow-http", allow_http,
               "Allow plain http:// to hosts other than loopback (credentials travel unencrypted)");
  app.add_option("--timeout", timeout_s,
                 "Seconds to wait for each answer, restarted by progress notifications; 0 waits "
                 "forever")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 31536000.0));
  double connect_timeout_s = 0;  // not given
  double ping_interval_s = 0;
  bool no_cookies = false;
  app.add_option("--connect-timeout", connect_timeout_s,
                 "Seconds to wait for a connection to the remote and to OAuth servers (default: "
                 "10 for the remote, libcurl's for OAuth)")
      ->check(CLI::Range(0.001, 3600.0));
  app.add_option("--ping-interval", ping_interval_s,
                 "Ping the remote after this many seconds with nothing in flight and nothing "
                 "sent, so that proxies and load balancers keep the session (0: never)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  app.add_flag("--no-cookies", no_cookies,
               "Do not send back the cookies the remote sets (by default they are kept in memory "
               "for the session, for sticky load balancers, and never written to disk)");
  app.add_option("--log-level", log_level, "trace | debug | info | warn | error | off")
      ->capture_default_str();
  app.add_option("--log-file", log_file, "Append logs to this file instead of stderr");
  app.add_option("--ca-file", ca_file,
                 "PEM bundle of CA certificates to trust, for the remote and its "
                 "authorization server: on Linux besides the system's (or SSL_CERT_FILE's); "
                 "on macOS and Windows instead of the OS's store")
      ->check(CLI::ExistingFile);
  app.add_option("--max-message-mb", max_message_mb,
                 "Largest message accepted from either side, in MiB")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 4096.0));
  app.add_option("--credential-store", credential_store,
                 "keychain (the OS keychain) | file (a 0600 file in the state directory; only "
                 "when no keychain is available)")
      ->capture_default_str();
  app.add_option("--allow-tool", tool_policy.allow,
                 "Only tools whose names match this glob (* and ?, case-insensitive; repeatable)")
      ->allow_extra_args(false);
  app.add_option("--deny-tool", tool_policy.deny,
                 "Hide and refuse tools whose names match this glob (repeatable; wins over "
                 "--allow-tool)")
      ->allow_extra_args(false);
  app.add_flag("--read-only", tool_policy.read_only,
               "Hide and refuse tools whose names contain a write verb (create, update, delete, "
               "send, refund, upload, ...)");
  app.add_option("--upload-dir", uploads.dirs,
                 "A directory whose files tools may send by path (repeatable); see the *_path "
                 "arguments the bridge adds beside base64 ones")
      ->allow_extra_args(false);
  std::vector<std::string> upload_dirs_list;
  app.add_option("--upload-dirs", upload_dirs_list,
                 "Several upload directories at once, up to the next option (how a .mcpb "
                 "bundle passes its directory list)")
      ->expected(0, -1);
  app.add_flag("--upload-allow-hidden", uploads.allow_hidden,
               "Allow sending hidden files (names starting with '.') from upload directories");
  app.add_flag("--upload-allow-hardlinks", uploads.allow_hardlinks,
               "Allow sending files with more than one hard link (another name, possibly "
               "outside the upload directories, may lead to the same contents)");
  app.add_option("--max-upload-mb", max_upload_mb,
                 "Largest file a tool may send by path, in MB of base64 (10^6 bytes)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100000.0));
  app.add_option("--capture-key", capture_args,
                 "TOOL=KEY_PREFIX or TOOL=field:NAME: a tool whose result carries a newly "
                 "minted API key, which is stored in the keychain and hidden from the client "
                 "(default: verify_email=claribi_mcp_)")
      ->allow_extra_args(false);

  oauth::Options oauth_options;
  bool no_browser = false;
  bool no_oauth = false;
  double login_timeout_s = 300;
  app.add_option("--client-id", oauth_options.client_id,
                 "OAuth: a client registered with the authorization server beforehand (its "
                 "secret or key: 'key set --client-secret' / '--client-key')");
  app.add_option("--client-metadata-url", oauth_options.client_metadata_url,
                 "OAuth: an https URL of this client's metadata document, used as client_id "
                 "where the authorization server supports it");
  app.add_flag("--client-credentials", oauth_options.client_credentials,
               "OAuth: machine-to-machine (client_credentials grant with --client-id), no "
               "browser");
  app.add_option("--idp-token-endpoint", oauth_options.idp_token_endpoint,
                 "OAuth: enterprise-managed authorization; exchange the identity provider's ID "
                 "token ('key set --idp-token') at this endpoint");
  app.add_option("--idp-client-id", oauth_options.idp_client_id,
                 "OAuth: this client's id at the identity provider");
  app.add_option("--workload-token-file", oauth_options.workload_token_file,
                 "OAuth: workload identity; a file holding a JWT issued to this workload (a "
                 "CI or cloud OIDC token, read again at each token request), presented with "
                 "--client-id as a JWT bearer grant (RFC 7523); no browser");
  app.add_option("--scope", oauth_options.scope,
                 "OAuth: the scopes to ask for (default: what the server asks for)");
  app.add_option("--callback-port", oauth_options.callback_port,
                 "OAuth: listen for the login callback on this port of 127.0.0.1 (default: a "
                 "free one; for a client registered with a fixed redirect URI)")
      ->check(CLI::Range(1, 65535));
  app.add_option("--callback-host", oauth_options.callback_host,
                 "OAuth: the redirect URI's host, 127.0.0.1 or localhost (to match a client "
                 "registered with it; the listener stays on the loopback interface)")
      ->capture_default_str();
  app.add_option("--callback-path", oauth_options.callback_path,
                 "OAuth: the redirect URI's path, starting with '/'")
      ->capture_default_str();
  std::vector<std::string> authorize_args;
  bool no_resource_param = false;
  app.add_option("--authorize-param", authorize_args,
                 "OAuth: KEY=VALUE added to the authorization request, e.g. prompt=consent or "
                 "domain_hint=example.com (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--resource", oauth_options.resource,
                 "OAuth: the RFC 8707 resource to ask tokens for (an http(s) URL); its login and "
                 "secrets are kept apart from the server's others (two tenants of one URL)");
  app.add_flag("--no-resource-param", no_resource_param,
               "OAuth: send no RFC 8707 resource parameter (Microsoft Entra refuses it: "
               "AADSTS9010010)");
  app.add_flag("--no-browser", no_browser,
               "OAuth: print the login URL instead of opening a browser");
  app.add_option("--login-timeout", login_timeout_s, "OAuth: seconds to wait for the browser")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 86400.0));
  app.add_flag("--no-oauth", no_oauth, "Never log in with OAuth when the remote answers 401");

  std::vector<std::string> run_args;
  std::vector<std::string> tools_args;
  std::vector<std::string> call_args;
  auto* run = app.add_subcommand("run", "Bridge stdio to the remote (the default)");
  run->add_option("url", run_args, "Remote MCP server URL")->expected(0, 1);
  auto* tools = app.add_subcommand("tools", "List the remote's tools and exit");
  tools->add_option("url", tools_args, "Remote MCP server URL")->expected(0, 1);
  tools->add_flag("--json", json_output, "Print the tools as JSON");
  auto* call = app.add_subcommand("call", "Call one tool: call [URL] TOOL JSON-ARGUMENTS");
  call->add_option("args", call_args, "[URL] TOOL JSON")->expected(2, 3)->required();
  std::vector<std::string> key_set_args, key_remove_args, logout_args, status_args;
  auto* key = app.add_subcommand("key", "Manage the API key stored for a server");
  auto* key_set = key->add_subcommand(
      "set", "Store an API key (typed without echo, or piped on stdin; never an argument)");
  key_set->add_option("url", key_set_args, "Remote MCP server URL")->expected(0, 1);
  auto* key_remove = key->add_subcommand("remove", "Remove the stored API key");
  key_remove->add_option("url", key_remove_args, "Remote MCP server URL")->expected(0, 1);
  bool kind_client_secret = false, kind_client_key = false, kind_idp_token = false;
  for (auto* sub : {key_set, key_remove}) {
    auto* a = sub->add_flag("--client-secret", kind_client_secret,
                            "The OAuth client secret of --client-id instead of an API key");
    auto* b = sub->add_flag("--client-key", kind_client_key,
                            "The PEM private key of --client-id (private_key_jwt)");
    auto* c = sub->add_flag("--idp-token", kind_idp_token,
                            "The identity provider's ID token (enterprise-managed authorization)");
    a->excludes(b)->excludes(c);
    b->excludes(c);
  }
  std::vector<std::string> login_args;
  bool login_manual = false, login_device = false;
  auto* login = app.add_subcommand(
      "login", "Log in with OAuth now (the browser, or --manual to paste the final URL)");
  login->add_option("url", login_args, "Remote MCP server URL")->expected(0, 1);
  login->add_flag("--manual", login_manual,
                  "Print the login URL and read the address the browser ends on from stdin (for "
                  "a machine without a browser)");
  login
      ->add_flag("--device-code", login_device,
                 "Sign in on another device with a code (RFC 8628), where the server offers it")
      ->excludes("--manual");
  key->require_subcommand(1);
  auto* logout = app.add_subcommand("logout", "Remove every secret stored for a server");
  logout->add_option("url", logout_args, "Remote MCP server URL")->expected(0, 1);
  auto* status = app.add_subcommand(
      "status", "Show the stored secrets (masked), the credential store, and reachability");
  status->add_option("url", status_args, "Remote MCP server URL (default: every server)")
      ->expected(0, 1);
  std::vector<std::string> install_rest, uninstall_rest;
  std::string entry_name = "clariBI", project;
  bool dry_run = false;
  auto* install = app.add_subcommand(
      "install",
      "Add claribi-bridge to a client's configuration: install claude|cursor [URL] [--name NAME] "
      "[--project DIR] [--dry-run] [-- BRIDGE FLAGS...]");
  install->add_option("args", install_rest, "claude|cursor [URL] [-- bridge flags]")
      ->expected(1, -1)
      ->required();
  auto* uninstall = app.add_subcommand(
      "uninstall", "Remove claribi-bridge's entry from a client's configuration");
  uninstall->add_option("client", uninstall_rest, "claude | cursor")->expected(1)->required();
  for (auto* sub : {install, uninstall}) {
    sub->add_option("--name", entry_name, "The entry's name under mcpServers")
        ->capture_default_str();
    sub->add_option("--project", project,
                    "Cursor: this project's .cursor/mcp.json instead of ~/.cursor/mcp.json");
    sub->add_flag("--dry-run", dry_run, "Print the new file instead of writing it");
  }
  std::vector<std::string> bare_url;
  app.add_option("url", bare_url, "Remote MCP server URL (same as 'run URL')")->expected(0, 1);
  app.require_subcommand(0, 1);

  // Everything after "--" is for the entry `install` writes, not for this process.
  int own_argc = argc;
  std::vector<std::string> after_separator;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      own_argc = i;
      after_separator.assign(argv + i + 1, argv + argc);
      break;
    }
  }
  try {
    app.parse(own_argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostringstream out;
    exit_code = app.exit(e, out, std::cerr);
    printed = out.str();  // --help and --version, for a person at a terminal
    return fail("");
  }

  Invocation inv;
  std::string url = k_default_url;
  if (*tools) {
    inv.command = Invocation::Command::tools;
    if (!tools_args.empty()) url = tools_args.front();
  } else if (*call) {
    inv.command = Invocation::Command::call;
    std::size_t i = 0;
    if (call_args.size() == 3) url = call_args[i++];
    inv.tool = call_args[i++];
    inv.tool_arguments = call_args[i];
    json::Document d;
    if (!json::parse(d, inv.tool_arguments) || !d.IsObject()) {
      exit_code = 2;
      return fail("the tool arguments must be a JSON object, e.g. '{\"name\":\"x\"}'");
    }
  } else if (*install || *uninstall) {
    inv.command = *install ? Invocation::Command::install : Invocation::Command::uninstall;
    const auto& rest = *install ? install_rest : uninstall_rest;
    inv.client = rest.front();
    if (inv.client != "claude" && inv.client != "cursor") {
      exit_code = 2;
      return fail("the client must be claude or cursor, not '" + inv.client + "'");
    }
    std::size_t i = 1;
    if (i < rest.size() && !rest[i].empty() && rest[i].front() != '-') url = rest[i++];
    inv.entry_args = {"run", url};
    bool entry_flags_here =
        !header_args.empty() || !header_files.empty() || tool_policy.read_only ||
        !tool_policy.allow.empty() || !tool_policy.deny.empty() || !uploads.dirs.empty() ||
        !upload_dirs_list.empty() || !capture_args.empty() || transport_name != "auto" ||
        protocol_name != "auto" || allow_http || !ca_file.empty() ||
        !oauth_options.client_id.empty() || !oauth_options.client_metadata_url.empty() ||
        no_browser || !authorize_args.empty() || !oauth_options.resource.empty() ||
        no_resource_param || oauth_options.callback_host != "127.0.0.1" ||
        oauth_options.callback_path != "/callback" || connect_timeout_s > 0 ||
        ping_interval_s > 0 || no_cookies || !oauth_options.workload_token_file.empty();
    if (entry_flags_here) {
      exit_code = 2;
      return fail("bridge flags for the entry go after --, e.g. install " + inv.client +
                  " URL -- --read-only; before it they would only apply to this command");
    }
    if (i < rest.size()) {
      exit_code = 2;
      return fail("unexpected '" + rest[i] + "': put the bridge's flags after --, e.g. install " +
                  inv.client + " URL -- --read-only");
    }
    inv.entry_args.insert(inv.entry_args.end(), after_separator.begin(), after_separator.end());
    inv.entry_name = entry_name;
    inv.project = project;
    inv.dry_run = dry_run;
  } else if (*login) {
    inv.command = Invocation::Command::login;
    if (!login_args.empty()) url = login_args.front();
  } else if (*key_set || *key_remove || *logout || *status) {
    const auto& args = *key_set      ? key_set_args
                       : *key_remove ? key_remove_args
                       : *logout     ? logout_args
                                     : status_args;
    inv.command = *key_set      ? Invocation::Command::key_set
                  : *key_remove ? Invocation::Command::key_remove
                  : *logout     ? Invocation::Command::logout
                                : Invocation::Command::status;
    if (!args.empty()) url = args.front();
    inv.all_servers = *status && args.empty();
    inv.key_kind = kind_client_secret ? keychain::SecretKind::client_secret
                   : kind_client_key  ? keychain::SecretKind::client_key
                   : kind_idp_token   ? keychain::SecretKind::idp_token
                                      : keychain::SecretKind::api_key;
  } else {
    if (!run_args.empty()) url = run_args.front();
    if (!bare_url.empty()) url = bare_url.front();
  }
  if (!after_separator.empty() && inv.command != Invocation::Command::install) {
    exit_code = 2;
    return fail("'--' and what follows it are only for install (the flags of the entry it writes)");
  }
  inv.json_output = json_output;
  exit_code = 2;

  auto level = log::parse_level(log_level);
  if (!level) return fail(level.error().message);
  if (auto r = log::configure(*level, log_file); !r) return fail(r.error().message);

  auto parsed_url = parse_url(url);
  if (!parsed_url) return fail(parsed_url.error().message);
  if (parsed_url->scheme == "http" && !parsed_url->is_loopback() && !allow_http) {
    return fail("refusing plain http to " + parsed_url->host +
                ": credentials and data would travel unencrypted. Use https, or pass --allow-http "
                "if you must.");
  }
  auto transport_kind = parse_transport(transport_name);
  if (!transport_kind) return fail(transport_kind.error().message);
  auto server = keychain::canonical_server(url);
  if (!server) return fail(server.error().message);
  inv.server = *server;
  if (!oauth_options.resource.empty()) {
    auto& resource = oauth_options.resource;
    resource = std::string(text::trim(resource));
    Result<std::string> named = fail("a fragment");
    if (resource.find('#') == std::string::npos) named = keychain::canonical_server(resource);
    if (!named) {
      return fail(
          "--resource must be an http or https URL without a fragment (RFC 8707), "
          "e.g. https://mcp.example.com/mcp, not '" +
          resource + "'");
    }
    inv.server = keychain::login_server(*server, *named);
  }

  // Only a handle: no keychain work happens until a secret is needed.
  Result<std::unique_ptr<keychain::Keychain>> store = fail("");
  if (credential_store == "keychain") {
    store = keychain::make_platform_keychain();
  } else if (credential_store == "file") {
    store = keychain::make_file_keychain({});
    CLARIBI_LOG(warn, "secrets are kept in a plain file ("
                          << keychain::default_file_store_path()
                          << "), protected only by its permissions; the OS keychain is safer "
                             "(drop --credential-store file)");
  } else {
    return fail("--credential-store must be keychain or file");
  }
  if (!store) return fail(store.error().message);
  inv.store = std::shared_ptr<keychain::Keychain>(std::move(*store));

  auto env = process_env();
  std::vector<Header> headers;
  for (const auto& file : header_files) {
    auto h = read_header_file(file, env);
    if (!h) return fail(h.error().message);
    headers.insert(headers.end(), h->begin(), h->end());
  }
  for (const auto& arg : header_args) {
    auto h = parse_header(arg, env);
    if (!h) return fail(h.error().message);
    headers.push_back(std::move(*h));
  }
  // Which credential is used, and the closures that reach it, are compose.cpp's.
  auto& bridge = inv.bridge;
  inv.env_api_key = env("CLARIBI_API_KEY");
  inv.no_oauth = no_oauth;
  bridge.tools = tool_policy;
  uploads.max_encoded = static_cast<std::uint64_t>(max_upload_mb * 1e6 + 0.5);
  uploads.dirs.insert(uploads.dirs.end(), upload_dirs_list.begin(), upload_dirs_list.end());
  // A bundle setting left empty arrives as its unexpanded placeholder.
  uploads.dirs.erase(std::remove_if(uploads.dirs.begin(), uploads.dirs.end(),
                                    [](const std::string& d) {
                                      return d.empty() || d.rfind("${user_config.", 0) == 0;
                                    }),
                     uploads.dirs.end());
  bridge.uploads = uploads;
  bridge.capture.push_back(default_capture_rule());
  for (const auto& c : capture_args) {
    auto rule = parse_capture_rule(c);
    if (!rule) return fail(rule.error().message);
    bridge.capture.push_back(std::move(*rule));
  }

  auto& remote = inv.bridge.remote;
  remote.url = *parsed_url;
  remote.headers = std::move(headers);
  remote.transport = *transport_kind;
  inv.bridge.protocol = protocol_name == "2026"   ? era::Pin::modern
                        : protocol_name == "2025" ? era::Pin::legacy
                                                  : era::Pin::auto_detect;
  if (remote.transport == transport::TransportKind::sse) {
    if (inv.bridge.protocol == era::Pin::modern) {
      return fail(
          "--protocol 2026 and --transport sse contradict each other: HTTP+SSE is a "
          "2024-11-05 transport");
    }
    inv.bridge.protocol = era::Pin::legacy;
  }
  if (inv.bridge.protocol == era::Pin::auto_detect) {
    inv.bridge.era_cache = EraCache::path_for(*parsed_url);
  }
  auto trust = tls::resolve(ca_file, env, tls::platform());
  if (!trust) return fail(trust.error().message);
  remote.trust = *trust;
  remote.allow_http = allow_http;
  remote.max_message_bytes = static_cast<std::size_t>(max_message_mb * 1024 * 1024 + 0.5);
  inv.bridge.timeout_ms = static_cast<long>(timeout_s * 1000 + 0.5);
  const long connect_timeout_ms = static_cast<long>(connect_timeout_s * 1000 + 0.5);
  if (connect_timeout_ms > 0) remote.connect_timeout_ms = connect_timeout_ms;
  if (ping_interval_s > 0 && ping_interval_s < 1) {
    return fail("--ping-interval must be 0 (never) or at least 1 second");
  }
  remote.ping_interval_ms = static_cast<long>(ping_interval_s * 1000 + 0.5);
  remote.cookies = !no_cookies;

  auto& o = inv.oauth;
  o = std::move(oauth_options);
  o.server = *parsed_url;
  o.account_server = inv.server;
  o.store = inv.store;
  o.interaction = login_device   ? oauth::Interaction::device
                  : login_manual ? oauth::Interaction::manual
                  : no_browser   ? oauth::Interaction::print
                                 : oauth::Interaction::browser;
  o.login_timeout_ms = static_cast<long>(login_timeout_s * 1000 + 0.5);
  o.trust = *trust;
  o.allow_http = allow_http;
  o.connect_timeout_ms = connect_timeout_ms;
  o.send_resource = !no_resource_param;
  if (no_resource_param && !o.idp_token_endpoint.empty()) {
    return fail(
        "--no-resource-param cannot go with --idp-token-endpoint: the token exchange "
        "names the resource its identity assertion is for");
  }
  if (auto ok = oauth::check_callback_address({o.callback_host, o.callback_path, false}); !ok) {
    return fail(ok.error().message);
  }
  for (const auto& arg : authorize_args) {
    auto param = oauth::authorize_param(arg);
    if (!param) return fail(param.error().message);
    for (const auto& [name, value] : o.authorize_params) {
      if (name == param->first) return fail("--authorize-param gives '" + name + "' twice");
    }
    o.authorize_params.push_back(std::move(*param));
  }
  if (!o.client_metadata_url.empty()) {
    auto cimd = parse_url(o.client_metadata_url);
    if (!cimd || cimd->scheme != "https" || cimd->path.size() < 2) {
      return fail("--client-metadata-url must be an https URL with a path");
    }
  }
  if (o.client_credentials && o.client_id.empty()) {
    return fail("--client-credentials needs --client-id");
  }
  exit_code = 0;
  return inv;
}

}  // namespace claribi::daemon
