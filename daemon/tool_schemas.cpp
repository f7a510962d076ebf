#include "daemon/tool_schemas.hpp"

#include "util/json.hpp"
#include "util/log.hpp"

#include <algorithm>

namespace claribi::daemon {

ToolSchemas::ToolSchemas(ToolLayer& tools, Ask ask, Resume resume)
    : m_tools(tools), m_ask(std::move(ask)), m_resume(std::move(resume)) {}

bool ToolSchemas::hold_if_needed(jsonrpc::Message& m) {
  if (m_learnt || !m_tools.needs_schema(m)) return false;
  CLARIBI_LOG(info, "request " << m.id
                               << " calls a tool the client never listed, with a *_path "
                                  "argument: listing the remote's tools first");
  m_held.push_back(std::move(m));
  if (!m_listing) {
    m_listing = true;
    list_page({}, 1);
  }
  return true;
}

void ToolSchemas::list_page(const std::string& cursor, int page) {
  std::string params = cursor.empty() ? "{}" : "{\"cursor\":" + json::quote(cursor) + "}";
  m_ask("tools/list", params, [this, page](Result<jsonrpc::Message> answer) {
    if (!answer) {
      finish("listing the remote's tools failed: " + answer.error().message);
      return;
    }
    if (const auto* error = json::member(answer->doc, "error")) {
      finish("the remote refused tools/list: " + json::to_string(*error));
      return;
    }
    m_tools.rewrite_response("tools/list", *answer);
    const auto* result = json::member(answer->doc, "result");
    auto next = json::string_or_empty(result ? json::member(*result, "nextCursor") : nullptr);
    if (next.empty()) {
      finish({});
    } else if (page >= k_max_pages) {
      finish("the remote's tools/list went on for more than " + std::to_string(k_max_pages) +
             " pages");
    } else {
      list_page(std::string(next), page + 1);
    }
  });
}

void ToolSchemas::finish(const std::string& failure) {
  m_listing = false;
  m_learnt = failure.empty();
  if (!failure.empty()) CLARIBI_LOG(warn, failure);
  auto held = std::move(m_held);
  m_held.clear();
  for (auto& m : held) m_resume(std::move(m), failure);
}

bool ToolSchemas::holds(const std::string& id) const {
  return std::any_of(m_held.begin(), m_held.end(),
                     [&](const jsonrpc::Message& m) { return m.id == id; });
}

bool ToolSchemas::cancel(const std::string& id) {
  auto it = std::find_if(m_held.begin(), m_held.end(),
                         [&](const jsonrpc::Message& m) { return m.id == id; });
  if (it == m_held.end()) return false;
  m_held.erase(it);
  return true;
}

std::vector<jsonrpc::Message> ToolSchemas::take_held() {
  auto held = std::move(m_held);
  m_held.clear();
  return held;
}

}  // namespace claribi::daemon
