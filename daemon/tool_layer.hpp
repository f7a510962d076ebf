#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

/// The one place where the bridge changes tools: it sees the client's tools/call requests
/// and the remote's tools/list results. `tools/list_changed` needs nothing here: the client
/// lists again and the same rules apply to the new list.
class ToolLayer {
 public:
  explicit ToolLayer(ToolPolicy policy = ToolPolicy());

  /// A client request. Returns an error message when the bridge must refuse it itself.
  std::optional<std::string> check_request(const jsonrpc::Message& m) const;

  /// The remote's answer to `method`. Rewrites `m.raw` when tools were hidden; returns
  /// whether it did.
  bool rewrite_response(const std::string& method, jsonrpc::Message& m) const;

 private:
  ToolPolicy m_policy;
};

}  // namespace claribi::daemon
