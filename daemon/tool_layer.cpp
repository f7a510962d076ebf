#include "daemon/tool_layer.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace claribi::daemon {
namespace {

// The seeds' blocklist (create, update, delete, send, refund) and its kin: verbs that
// change state on the remote, its data or someone's money.
constexpr std::array<std::string_view, 50> k_write_verbs = {
    "create",   "update",  "delete",  "send",    "refund",   "write",    "insert",   "remove",
    "drop",     "cancel",  "pay",     "charge",  "transfer", "checkout", "upgrade",  "downgrade",
    "set",      "patch",   "modify",  "edit",    "add",      "upload",   "ingest",   "import",
    "register", "revoke",  "grant",   "publish", "deploy",   "archive",  "rename",   "move",
    "merge",    "reset",   "restore", "purge",   "destroy",  "kill",     "submit",   "assign",
    "invite",   "approve", "reject",  "replace", "upsert",   "append",   "generate", "truncate",
    "execute",  "commit"};

// A name that starts with one of these reads, whatever noun follows (get_charge,
// list_transfers, check_integration_status).
constexpr std::array<std::string_view, 16> k_read_verbs = {
    "get",  "list",  "read",  "search", "find",    "fetch",   "show",    "describe",
    "view", "check", "count", "lookup", "inspect", "explain", "preview", "download"};

std::vector<std::string> words_of(std::string_view name) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) words.push_back(text::lower(word));
    word.clear();
  };
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) {
      flush();
      continue;
    }
    bool upper = std::isupper(static_cast<unsigned char>(c)) != 0;
    bool prev_lower = i > 0 && std::islower(static_cast<unsigned char>(name[i - 1])) != 0;
    if (upper && prev_lower) flush();  // camelCase boundary
    word += c;
  }
  flush();
  return words;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  auto same = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || same(pattern[p], text[t]))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::optional<std::string> write_verb(std::string_view tool_name) {
  auto words = words_of(tool_name);
  if (words.empty()) return std::nullopt;
  if (std::find(k_read_verbs.begin(), k_read_verbs.end(), words.front()) != k_read_verbs.end()) {
    return std::nullopt;
  }
  for (const auto& w : words) {
    if (std::find(k_write_verbs.begin(), k_write_verbs.end(), w) != k_write_verbs.end()) return w;
  }
  return std::nullopt;
}

ToolPolicy::ToolPolicy(ToolPolicyOptions options) : m_options(std::move(options)) {}

bool ToolPolicy::active() const {
  return !m_options.allow.empty() || !m_options.deny.empty() || m_options.read_only;
}

std::optional<std::string> ToolPolicy::refusal(std::string_view name) const {
  for (const auto& d : m_options.deny) {
    if (glob_match(d, name)) return "blocked by --deny-tool '" + d + "'";
  }
  if (!m_options.allow.empty() &&
      std::none_of(m_options.allow.begin(), m_options.allow.end(),
                   [&](const std::string& a) { return glob_match(a, name); })) {
    return "not matched by any --allow-tool pattern";
  }
  if (m_options.read_only) {
    if (auto verb = write_verb(name)) {
      return "blocked by --read-only (the name contains the write verb '" + *verb + "')";
    }
  }
  return std::nullopt;
}

ToolLayer::ToolLayer(ToolPolicy policy) : m_policy(std::move(policy)) {}

std::optional<std::string> ToolLayer::check_request(const jsonrpc::Message& m) const {
  if (m.method != "tools/call" || !m_policy.active()) return std::nullopt;
  const auto* params = json::member(m.doc, "params");
  auto name = json::string_or_empty(params ? json::member(*params, "name") : nullptr);
  if (auto why = m_policy.refusal(name)) {
    return "tool '" + std::string(name) + "' is not available through claribi-bridge: " + *why;
  }
  return std::nullopt;
}

bool ToolLayer::rewrite_response(const std::string& method, jsonrpc::Message& m) const {
  if (method != "tools/list" || !m_policy.active()) return false;
  auto result = m.doc.FindMember("result");
  if (result == m.doc.MemberEnd() || !result->value.IsObject()) return false;
  auto tools = result->value.FindMember("tools");
  if (tools == result->value.MemberEnd() || !tools->value.IsArray()) return false;
  auto& list = tools->value;
  bool changed = false;
  for (auto it = list.Begin(); it != list.End();) {
    auto name = json::string_or_empty(json::member(*it, "name"));
    if (m_policy.refusal(name)) {
      it = list.Erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (changed) m.raw = json::to_string(m.doc);
  return changed;
}

}  // namespace claribi::daemon
