#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "daemon/uploads.hpp"
#include "transport/http_worker.hpp"
#include "transport/modern.hpp"
#include "util/jsonrpc.hpp"

namespace claribi::daemon {

/// Which remote tools the model may see and call.
struct ToolPolicyOptions {
  std::vector<std::string> allow;  ///< globs (* and ?), case-insensitive; empty: all
  std::vector<std::string> deny;   ///< globs; a match hides the tool
  bool read_only = false;          ///< hide tools whose names contain a write verb
};

/// Case-insensitive glob: '*' any run of characters, '?' one character.
bool glob_match(std::string_view pattern, std::string_view text);

/// The write verb a tool name contains (as a word of snake_case, kebab-case or camelCase),
/// e.g. "delete" for "deleteDashboard"; nullopt when none.
std::optional<std::string> write_verb(std::string_view tool_name);

class ToolPolicy {
 public:
  explicit ToolPolicy(ToolPolicyOptions options = {});
  bool active() const;
  /// Why the tool may not be used (naming the rule), or nullopt when it may.
  std::optional<std::string> refusal(std::string_view tool_name) const;

 private:
  ToolPolicyOptions m_options;
};

/// What to do with a client request after the tool layer saw it.
struct PreparedRequest {
  enum class Outcome { forward, rpc_error, tool_error };
  Outcome outcome = Outcome::forward;
  std::string message;  ///< the error, for rpc_error and tool_error
  /// A path twin was used: the request's body is made from this file while it is sent.
  std::shared_ptr<const transport::UploadBody> upload;
};

/// The one place where the bridge changes tools: it sees the client's tools/call requests
/// and the remote's tools/list results. It hides tools the policy refuses, and gives every
/// argument that carries base64 content a path twin (`data_path` beside `data_base64`).
/// `tools/list_changed` needs nothing here: the client lists again and the same rules
/// apply to the new list.
class ToolLayer {
 public:
  explicit ToolLayer(ToolPolicy policy = ToolPolicy(), UploadOptions uploads = {});

  /// A client request. tools/call of a hidden tool: rpc_error. A path twin: the file is
  /// checked (a refusal is a tool_error) and `m` is rewritten around a placeholder.
  PreparedRequest prepare_request(jsonrpc::Message& m) const;

  /// The remote's answer to `method`. Rewrites `m.raw` when it changed tools; returns
  /// whether it did.
  bool rewrite_response(const std::string& method, jsonrpc::Message& m);

  /// The remote speaks 2026-07-28: tools with an invalid `x-mcp-header` declaration are
  /// hidden (and refused), and tools/call carries the declared Mcp-Param-* headers.
  void set_header_params(bool on) { m_header_params = on; }
  /// The Mcp-Param-* headers of a tools/call ("Name: value"), from its tool's declarations.
  std::vector<std::string> param_headers(const jsonrpc::Message& m) const;

  /// Whether `m` is a tools/call that may use a path twin (an argument named `*_path`) of a
  /// tool no tools/list answer has shown yet: its schema must be learnt before it is sent,
  /// or a local path could reach the remote.
  bool needs_schema(const jsonrpc::Message& m) const;

  /// Whether sending tools/call `m` twice would do no harm: its tool is annotated
  /// `readOnlyHint` or `idempotentHint` in the last tools/list.
  bool is_idempotent_call(const jsonrpc::Message& m) const;

  /// Whether the remote must act on request `m` at most once: a tools/call that is not
  /// idempotent, or a method MCP does not define as safe to repeat (lists, reads, gets, ping,
  /// initialize, discover, subscriptions, log level, completion).
  bool must_not_repeat(const jsonrpc::Message& m) const;

  /// Client roots (file:// URIs turned into paths) that also open directories for uploads.
  void set_roots(std::vector<std::string> roots) { m_roots = std::move(roots); }

 private:
  struct Twin {
    std::string path_arg;    ///< e.g. data_path
    std::string base64_arg;  ///< e.g. data_base64
  };
  struct ToolInfo {
    std::vector<Twin> twins;
    bool has_format = false;
    std::vector<std::string> format_values;  ///< the format argument's enum, if any
    std::vector<transport::modern::HeaderParam> header_params;
  };

  ToolPolicy m_policy;
  UploadOptions m_uploads;
  std::vector<std::string> m_roots;
  std::unordered_map<std::string, ToolInfo> m_tools;  ///< from the last tools/list answers
  std::unordered_set<std::string> m_listed;           ///< every tool name a tools/list showed
  std::unordered_set<std::string> m_idempotent;       ///< tools annotated read-only or idempotent
  bool m_header_params = false;
  std::unordered_map<std::string, std::string> m_invalid;  ///< hidden tool → why
};

}  // namespace claribi::daemon
