#pragma once

#include <functional>
#include <string>
#include <vector>

#include "daemon/tool_layer.hpp"
#include "util/jsonrpc.hpp"
#include "util/result.hpp"

namespace claribi::daemon {

/// Learns the tool schemas the bridge needs when a client calls a tool it never listed (MCP
/// does not require tools/list first): a tools/call naming a `*_path` argument waits while
/// the bridge lists the remote's tools itself, every page, and hands the call back once the
/// tool layer knows whether that argument is one of its path twins. One listing at a time;
/// its result serves the session until the remote says its tools changed. Io thread only.
class ToolSchemas {
 public:
  /// Sends a request of the bridge's own to the remote; `done` gets its answer.
  using Ask = std::function<void(const std::string& method, const std::string& params_json,
                                 std::function<void(Result<jsonrpc::Message>)> done)>;
  /// A held call goes on; `failure` is set when the schema could not be learnt.
  using Resume = std::function<void(jsonrpc::Message&& call, std::string failure)>;

  ToolSchemas(ToolLayer& tools, Ask ask, Resume resume);

  /// Holds `m` (and returns true) when it needs a schema not learnt yet.
  bool hold_if_needed(jsonrpc::Message& m);
  /// The remote announced tools/list_changed: the next unknown tool lists again.
  void forget() { m_learnt = false; }
  /// Nothing held.
  bool idle() const { return m_held.empty(); }
  /// Whether a call with this id is held.
  bool holds(const std::string& id) const;
  /// The client cancelled a held call: it is dropped (true), never sent.
  bool cancel(const std::string& id);
  /// The calls still held, for answering at shutdown.
  std::vector<jsonrpc::Message> take_held();

  /// Pages followed at most: a remote that hands out cursors forever is cut off there.
  static constexpr int k_max_pages = 100;

 private:
  void list_page(const std::string& cursor, int page);
  void finish(const std::string& failure);

  ToolLayer& m_tools;
  Ask m_ask;
  Resume m_resume;
  bool m_listing = false;
  bool m_learnt = false;
  std::vector<jsonrpc::Message> m_held;
};

}  // namespace claribi::daemon
