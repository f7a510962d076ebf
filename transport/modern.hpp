#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/json.hpp"
#include "util/result.hpp"

/// What MCP revision 2026-07-28 (the stateless one) puts on the wire beyond the message
/// itself: the `_meta` envelope keys, the standard request headers (Mcp-Method, Mcp-Name)
/// and the custom ones a tool asks for with `x-mcp-header` (Mcp-Param-*).
namespace claribi::transport::modern {

constexpr std::string_view k_version = "2026-07-28";
/// The newest 2025 revision; what the bridge offers a legacy peer.
constexpr std::string_view k_latest_legacy_version = "2025-11-25";

constexpr const char* k_meta_protocol_version = "io.modelcontextprotocol/protocolVersion";
constexpr const char* k_meta_client_capabilities = "io.modelcontextprotocol/clientCapabilities";
constexpr const char* k_meta_client_info = "io.modelcontextprotocol/clientInfo";
constexpr const char* k_meta_log_level = "io.modelcontextprotocol/logLevel";
constexpr const char* k_meta_server_info = "io.modelcontextprotocol/serverInfo";
constexpr const char* k_meta_subscription_id = "io.modelcontextprotocol/subscriptionId";

/// JSON-RPC error codes the revision assigns.
constexpr int k_header_mismatch = -32020;
constexpr int k_missing_client_capability = -32021;
constexpr int k_unsupported_version = -32022;

/// Whether a revision string belongs to the stateless era (ISO dates order as text).
inline bool is_modern_version(std::string_view v) {
  return v >= k_version;
}

/// The protocol version a message claims in `params._meta` (the envelope claim), or empty.
std::string_view envelope_version(const json::Value& message);

/// The body-derived standard headers of one request: Mcp-Method always, Mcp-Name for the
/// methods that name a target (tools/call and prompts/get: params.name; resources/read:
/// params.uri; tasks/*: params.taskId), each as "Name: value".
std::vector<std::string> standard_headers(std::string_view method, const json::Value& message);

/// Every header a request at `version` derives from its body: MCP-Protocol-Version, then the
/// standard ones (`standard_headers`).
std::vector<std::string> request_headers(std::string_view version, std::string_view method,
                                         const json::Value& message);

/// Whether a JSON-RPC error answering a request that claimed `version` is one only a
/// 2026-07-28 (or later) server gives and the client may fix by sending the request again:
/// HeaderMismatch (its headers recomputed from the body), or UnsupportedProtocolVersion
/// whose `data.supported` lists `version` or lists nothing. Never a sign of a 2025 server.
bool fixable_refusal(const json::Value& error, std::string_view version);

/// Whether a request whose 2026-07-28 response stream was cut before its answer may be sent
/// again (under a new id): that revision cannot resume a stream, and these methods change
/// nothing (every `*/list`, resources/read, prompts/get, completion/complete,
/// server/discover). A tools/call may be too when its tool says so (readOnlyHint or
/// idempotentHint), which the caller knows, not this function.
bool reissue_when_cut(std::string_view method);

/// An HTTP field value for `value`: itself when it is plain visible ASCII without
/// surrounding blanks, else the `=?base64?...?=` form of its UTF-8 bytes.
std::string encode_header_value(std::string_view value);

/// One `x-mcp-header` a tool declares: the argument at `path` travels as Mcp-Param-<name>.
struct HeaderParam {
  std::vector<std::string> path;
  std::string name;
};

/// The `x-mcp-header` declarations of a tool's inputSchema, or why the tool is invalid
/// (a client must not offer or call such a tool): empty or non-token names, duplicates
/// (case-insensitive), declarations on non-primitive or `number` properties, or outside a
/// plain chain of `properties`.
Result<std::vector<HeaderParam>> scan_header_params(const json::Value& input_schema);

/// The Mcp-Param-* headers of one tools/call ("Name: value"); absent and null arguments
/// send none.
std::vector<std::string> param_headers(const std::vector<HeaderParam>& params,
                                       const json::Value* arguments);

}  // namespace claribi::transport::modern
