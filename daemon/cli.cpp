#include "daemon/cli.hpp"

#include "util/headers.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <sstream>

namespace claribi::daemon {
namespace {

constexpr const char* k_examples = R"(
Examples:
  claribi-bridge                                   bridge stdio to clariBI (https://claribi.com/mcp/v1/)
  claribi-bridge run https://mcp.example.com/mcp   bridge to another remote MCP server
  CLARIBI_API_KEY=claribi_mcp_... claribi-bridge   send the key as Authorization: Bearer
  claribi-bridge --header 'Authorization: Bearer ${MY_TOKEN}' run https://mcp.example.com/mcp
  claribi-bridge tools http://127.0.0.1:3001/mcp   list a server's tools
  claribi-bridge call http://127.0.0.1:3001/mcp echo '{"message":"hi"}'

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
  bool allow_http = false;
  double timeout_s = 300;
  std::string log_level = "info";
  std::string log_file;
  std::string ca_file;
  double max_message_mb = 64;
  bool json_output = false;

  app.add_option("--header", header_args,
                 "Extra HTTP header 'Name: value' for the remote (repeatable; ${VAR} is expanded "
                 "from the environment)");
  app.add_option("--header-file", header_files, "File with one 'Name: value' header a line")
      ->check(CLI::ExistingFile);
  app.add_option("--transport", transport_name, "auto | streamable-http | sse")
      ->capture_default_str();
  app.add_flag("--allow-http", allow_http,
               "Allow plain http:// to hosts other than loopback (credentials travel unencrypted)");
  app.add_option("--timeout", timeout_s,
                 "Seconds to wait for each answer, restarted by progress notifications; 0 waits "
                 "forever")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 31536000.0));
  app.add_option("--log-level", log_level, "trace | debug | info | warn | error | off")
      ->capture_default_str();
  app.add_option("--log-file", log_file, "Append logs to this file instead of stderr");
  app.add_option("--ca-file", ca_file, "PEM bundle of CA certificates to trust for the remote")
      ->check(CLI::ExistingFile);
  app.add_option("--max-message-mb", max_message_mb,
                 "Largest message accepted from either side, in MiB")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 4096.0));

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
  std::vector<std::string> bare_url;
  app.add_option("url", bare_url, "Remote MCP server URL (same as 'run URL')")->expected(0, 1);
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
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
    d.Parse(inv.tool_arguments.c_str());
    if (d.HasParseError() || !d.IsObject()) {
      exit_code = 2;
      return fail("the tool arguments must be a JSON object, e.g. '{\"name\":\"x\"}'");
    }
  } else {
    if (!run_args.empty()) url = run_args.front();
    if (!bare_url.empty()) url = bare_url.front();
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
  bool has_authorization = false;
  for (const auto& h : headers) {
    if (is_secret_header(h.name)) log::add_secret(h.value);
    if (text::lower(h.name) == "authorization") has_authorization = true;
  }
  if (auto key = env("CLARIBI_API_KEY"); key && !key->empty() && !has_authorization) {
    log::add_secret(*key);
    headers.push_back(Header{"Authorization", "Bearer " + *key});
  }

  auto& remote = inv.bridge.remote;
  remote.url = *parsed_url;
  remote.headers = std::move(headers);
  remote.transport = *transport_kind;
  remote.ca_file = ca_file;
  remote.allow_http = allow_http;
  remote.max_message_bytes = static_cast<std::size_t>(max_message_mb * 1024 * 1024 + 0.5);
  inv.bridge.timeout_ms = static_cast<long>(timeout_s * 1000 + 0.5);
  exit_code = 0;
  return inv;
}

}  // namespace claribi::daemon
