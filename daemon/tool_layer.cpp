#include "daemon/tool_layer.hpp"

#include "util/log.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <random>

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

namespace {

/// The twin of an argument carrying base64, or empty when it carries none.
std::string twin_name(std::string_view arg, const json::Value& schema) {
  auto lowered = text::lower(arg);
  std::string_view stem;
  bool by_name = lowered.size() >= 6 && lowered.compare(lowered.size() - 6, 6, "base64") == 0;
  if (by_name) {
    stem = arg.substr(0, arg.size() - 6);
    while (!stem.empty() && (stem.back() == '_' || stem.back() == '-')) stem.remove_suffix(1);
  } else if (text::lower(json::string_or_empty(json::member(schema, "contentEncoding"))) ==
             "base64") {
    stem = arg;
  } else {
    return {};
  }
  return (stem.empty() ? std::string("file") : std::string(stem)) + "_path";
}

/// The format value for a file name's extension, fitted to the argument's enum if it has one.
std::string format_for(const std::string& path, const std::vector<std::string>& allowed) {
  auto dot = path.rfind('.');
  auto slash = path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return {};
  auto ext = text::lower(path.substr(dot + 1));
  if (ext == "jsonl" || ext == "ndjson") ext = "json";
  if (ext == "text") ext = "txt";
  const std::vector<std::string> known = {"csv", "tsv", "json", "xlsx", "xls", "txt", "pdf"};
  if (std::find(known.begin(), known.end(), ext) == known.end()) return {};
  if (allowed.empty()) return ext;
  std::vector<std::string> candidates = {ext};
  if (ext == "xlsx" || ext == "xls") candidates.insert(candidates.end(), {"excel", "xlsx", "xls"});
  if (ext == "txt") candidates.insert(candidates.end(), {"text", "plain", "txt"});
  for (const auto& c : candidates) {
    for (const auto& a : allowed) {
      if (text::lower(a) == c) return a;
    }
  }
  return {};
}

std::string random_hex() {
  std::random_device rd;
  char buf[33];
  std::snprintf(buf, sizeof buf, "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
  return buf;
}

}  // namespace

ToolLayer::ToolLayer(ToolPolicy policy, UploadOptions uploads)
    : m_policy(std::move(policy)), m_uploads(std::move(uploads)) {}

namespace {

/// A member name that appears twice in `object`, or empty.
std::string repeated_key(const json::Value* object) {
  if (object == nullptr || !object->IsObject()) return {};
  std::unordered_set<std::string_view> seen;
  for (const auto& m : object->GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (!seen.insert(key).second) return std::string(key);
  }
  return {};
}

std::string call_name(const jsonrpc::Message& m) {
  if (m.method != "tools/call") return {};
  const auto* params = json::member(m.doc, "params");
  return std::string(json::string_or_empty(params ? json::member(*params, "name") : nullptr));
}

}  // namespace

bool ToolLayer::needs_schema(const jsonrpc::Message& m) const {
  auto name = call_name(m);
  if (name.empty() || m_listed.count(name) != 0) return false;
  const auto* params = json::member(m.doc, "params");
  const auto* args = params ? json::member(*params, "arguments") : nullptr;
  if (args == nullptr || !args->IsObject()) return false;
  constexpr std::string_view k_suffix = "_path";
  for (const auto& member : args->GetObject()) {
    std::string_view key(member.name.GetString(), member.name.GetStringLength());
    if (key.size() > k_suffix.size() && key.substr(key.size() - k_suffix.size()) == k_suffix) {
      return true;
    }
  }
  return false;
}

bool ToolLayer::is_idempotent_call(const jsonrpc::Message& m) const {
  return m_idempotent.count(call_name(m)) != 0;
}

bool ToolLayer::must_not_repeat(const jsonrpc::Message& m) const {
  if (m.kind != jsonrpc::Kind::request) return false;
  if (m.method == "tools/call") return !is_idempotent_call(m);
  static const std::unordered_set<std::string> k_safe = {
      "initialize",          "ping",
      "server/discover",     "tools/list",
      "prompts/list",        "prompts/get",
      "resources/list",      "resources/templates/list",
      "resources/read",      "tasks/get",
      "tasks/list",          "tasks/result",
      "logging/setLevel",    "completion/complete",
      "resources/subscribe", "resources/unsubscribe",
      "subscriptions/listen"};
  return k_safe.count(m.method) == 0;
}

PreparedRequest ToolLayer::prepare_request(jsonrpc::Message& m) const {
  PreparedRequest out;
  if (m.method != "tools/call") return out;
  const std::string name = call_name(m);
  const auto info = m_tools.find(name);
  // A large call whose argument values are read here (a path to send, a value for a header)
  // needs them all: its long strings were left out of its document.
  if (m.trimmed && info != m_tools.end() &&
      (!info->second.twins.empty() || (m_header_params && !info->second.header_params.empty()))) {
    jsonrpc::make_whole(m);
  }
  auto params_it = m.doc.FindMember("params");
  if (params_it == m.doc.MemberEnd() || !params_it->value.IsObject()) return out;
  auto& params = params_it->value;
  // A name given twice is read as the first here and as the last by many servers: a policy
  // or a path twin could be passed by. JSON leaves duplicate names undefined; refuse them.
  const auto* arguments = json::member(params, "arguments");
  for (const json::Value* object : {static_cast<const json::Value*>(&params), arguments}) {
    if (auto twice = repeated_key(object); !twice.empty()) {
      out.outcome = PreparedRequest::Outcome::rpc_error;
      out.message = "tools/call names '" + twice + "' more than once";
      return out;
    }
  }
  if (auto why = m_policy.refusal(name); why && m_policy.active()) {
    out.outcome = PreparedRequest::Outcome::rpc_error;
    out.message = "tool '" + name + "' is not available through claribi-bridge: " + *why;
    return out;
  }
  if (auto invalid = m_invalid.find(name); invalid != m_invalid.end()) {
    out.outcome = PreparedRequest::Outcome::rpc_error;
    out.message = "tool '" + name + "' is not available through claribi-bridge: " + invalid->second;
    return out;
  }
  auto args_it = params.FindMember("arguments");
  if (info == m_tools.end() || args_it == params.MemberEnd() || !args_it->value.IsObject()) {
    return out;
  }
  auto& args = args_it->value;
  auto& a = m.doc.GetAllocator();
  for (const auto& twin : info->second.twins) {
    auto given = args.FindMember(twin.path_arg.c_str());
    if (given == args.MemberEnd()) continue;
    auto fail_tool = [&](std::string why) {
      out.outcome = PreparedRequest::Outcome::tool_error;
      out.message = "claribi-bridge did not send the file: " + why;
      return out;
    };
    if (!given->value.IsString()) return fail_tool(twin.path_arg + " must be a string path");
    if (out.upload) return fail_tool("only one file can be sent per call");
    if (args.HasMember(twin.base64_arg.c_str())) {
      return fail_tool("give either " + twin.path_arg + " or " + twin.base64_arg + ", not both");
    }
    std::string requested(given->value.GetString(), given->value.GetStringLength());
    auto file = check_upload(m_uploads, requested, m_roots);
    if (!file) return fail_tool(file.error().message);
    if (info->second.has_format && !args.HasMember("format")) {
      auto format = format_for(file->path, info->second.format_values);
      if (!format.empty()) args.AddMember("format", json::Value(format.c_str(), a), a);
    }
    auto placeholder = "claribi-bridge-upload-" + random_hex();
    args.RemoveMember(twin.path_arg.c_str());
    args.AddMember(json::Value(twin.base64_arg.c_str(), a), json::Value(placeholder.c_str(), a), a);
    auto body = std::make_shared<transport::UploadBody>();
    body->path = file->path;
    body->file_size = file->size;
    body->device = file->device;
    body->inode = file->inode;
    m.raw = json::to_string(m.doc);
    auto at = m.raw.find(placeholder);
    body->prefix = m.raw.substr(0, at);
    body->suffix = m.raw.substr(at + placeholder.size());
    out.upload = std::move(body);
  }
  return out;
}

std::vector<std::string> ToolLayer::param_headers(const jsonrpc::Message& m) const {
  if (!m_header_params || m.method != "tools/call") return {};
  const auto* params = json::member(m.doc, "params");
  if (params == nullptr) return {};
  auto info = m_tools.find(std::string(json::string_or_empty(json::member(*params, "name"))));
  if (info == m_tools.end()) return {};
  return transport::modern::param_headers(info->second.header_params,
                                          json::member(*params, "arguments"));
}

bool ToolLayer::rewrite_response(const std::string& method, jsonrpc::Message& m) {
  if (method != "tools/list") return false;
  jsonrpc::make_whole(m);
  auto result = m.doc.FindMember("result");
  if (result == m.doc.MemberEnd() || !result->value.IsObject()) return false;
  auto tools = result->value.FindMember("tools");
  if (tools == result->value.MemberEnd() || !tools->value.IsArray()) return false;
  auto& list = tools->value;
  auto& a = m.doc.GetAllocator();
  bool changed = false;
  for (auto it = list.Begin(); it != list.End();) {
    if (!it->IsObject()) {  // not a tool: the client will judge it; nothing here to read
      ++it;
      continue;
    }
    std::string name(json::string_or_empty(json::member(*it, "name")));
    m_listed.insert(name);
    // Which of two "name" or "inputSchema" members a client reads is its parser's choice, so
    // neither the policy nor a path twin can judge the tool: it is no tool to offer.
    if (auto twice = repeated_key(&*it); !twice.empty()) {
      std::string why = "the remote lists it with '" + twice + "' more than once";
      CLARIBI_LOG(warn, "hiding tool '" << name << "': " << why);
      for (const auto& member : it->GetObject()) {
        if (std::string_view(member.name.GetString(), member.name.GetStringLength()) != "name")
          continue;
        std::string each(json::string_or_empty(&member.value));
        m_invalid[each] = why;
        m_tools.erase(each);
        m_idempotent.erase(each);
      }
      it = list.Erase(it);
      changed = true;
      continue;
    }
    m_invalid.erase(name);
    const auto* annotations = json::member(*it, "annotations");
    auto hint = [&](const char* key) {
      const auto* v = annotations ? json::member(*annotations, key) : nullptr;
      return v != nullptr && v->IsBool() && v->GetBool();
    };
    if (hint("readOnlyHint") || hint("idempotentHint")) {
      m_idempotent.insert(name);
    } else {
      m_idempotent.erase(name);
    }
    if (m_policy.active() && m_policy.refusal(name)) {
      it = list.Erase(it);
      changed = true;
      continue;
    }
    ToolInfo info;
    auto schema = it->FindMember("inputSchema");
    if (m_header_params && schema != it->MemberEnd()) {
      auto params = transport::modern::scan_header_params(schema->value);
      if (!params) {
        CLARIBI_LOG(warn, "hiding tool '" << name << "': " << params.error().message);
        m_invalid[name] =
            "the remote declares it with an invalid x-mcp-header (" + params.error().message + ")";
        m_tools.erase(name);
        it = list.Erase(it);
        changed = true;
        continue;
      }
      info.header_params = std::move(*params);
    }
    auto props = schema != it->MemberEnd() && schema->value.IsObject()
                     ? schema->value.FindMember("properties")
                     : it->MemberEnd();
    if (schema != it->MemberEnd() && schema->value.IsObject() &&
        props != schema->value.MemberEnd() && props->value.IsObject()) {
      auto& properties = props->value;
      if (const auto* format = json::member(properties, "format")) {
        info.has_format = true;
        if (const auto* values = json::member(*format, "enum"); values && values->IsArray()) {
          for (const auto& v : values->GetArray()) {
            if (v.IsString()) info.format_values.emplace_back(v.GetString());
          }
        }
      }
      for (const auto& p : properties.GetObject()) {
        std::string arg(p.name.GetString(), p.name.GetStringLength());
        auto twin = twin_name(arg, p.value);
        if (twin.empty() || properties.HasMember(twin.c_str())) continue;
        info.twins.push_back(Twin{twin, arg});
      }
      for (const auto& t : info.twins) {
        std::string description =
            "Absolute path of a local file: claribi-bridge reads it and sends its contents "
            "base64-encoded as " +
            t.base64_arg + ", so you need not read or encode the file yourself. Give this or " +
            t.base64_arg + ", not both.";
        json::Value prop(rapidjson::kObjectType);
        prop.AddMember("type", "string", a);
        prop.AddMember("description", json::Value(description.c_str(), a), a);
        properties.AddMember(json::Value(t.path_arg.c_str(), a), prop, a);
        // Either argument will do now, so neither is required.
        if (auto req = schema->value.FindMember("required");
            req != schema->value.MemberEnd() && req->value.IsArray()) {
          for (auto r = req->value.Begin(); r != req->value.End();) {
            if (r->IsString() && t.base64_arg == r->GetString()) {
              r = req->value.Erase(r);
            } else {
              ++r;
            }
          }
        }
        std::string note = " (claribi-bridge: pass " + t.path_arg +
                           " with a local file path instead of " + t.base64_arg + ".)";
        auto d = it->FindMember("description");
        if (d != it->MemberEnd() && d->value.IsString()) {
          std::string text(d->value.GetString(), d->value.GetStringLength());
          text += note;
          d->value.SetString(text.c_str(), static_cast<rapidjson::SizeType>(text.size()), a);
        }
        changed = true;
      }
    }
    if (info.twins.empty() && info.header_params.empty()) {
      m_tools.erase(name);
    } else {
      m_tools[name] = std::move(info);
    }
    ++it;
  }
  if (changed) m.raw = json::to_string(m.doc);
  return changed;
}

}  // namespace claribi::daemon
