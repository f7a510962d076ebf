#include "daemon/era.hpp"

#include "transport/modern.hpp"

#include <array>

namespace claribi::daemon::era {
namespace {

namespace modern = transport::modern;
using Alloc = json::Document::AllocatorType;

constexpr std::array<std::string_view, 4> k_legacy_versions = {"2024-11-05", "2025-03-26",
                                                               "2025-06-18", "2025-11-25"};

json::Value string_value(std::string_view s, Alloc& a) {
  json::Value v;
  v.SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
  return v;
}

/// Parses compact JSON into a value owned by `a`; null when the text is empty or not JSON.
json::Value parsed(const std::string& text, Alloc& a) {
  json::Value v;
  if (text.empty()) return v;
  json::Document d;
  if (json::parse(d, text)) v.CopyFrom(d, a);
  return v;
}

void set_member(json::Value& obj, const char* name, json::Value&& value, Alloc& a) {
  if (auto it = obj.FindMember(name); it != obj.MemberEnd()) {
    it->value = std::move(value);
  } else {
    obj.AddMember(json::Value(name, a), std::move(value), a);
  }
}

/// `doc.params`, created as an object when absent.
json::Value& params_object(json::Document& doc) {
  auto& a = doc.GetAllocator();
  auto it = doc.FindMember("params");
  if (it == doc.MemberEnd() || !it->value.IsObject()) {
    set_member(doc, "params", json::Value(rapidjson::kObjectType), a);
    it = doc.FindMember("params");
  }
  return it->value;
}

std::string compact_or(const json::Value* v, std::string fallback) {
  return v != nullptr && v->IsObject() ? json::to_string(*v) : std::move(fallback);
}

}  // namespace

namespace {

/// Capabilities (compact JSON) without the Tasks extension, which the bridge does not
/// translate between a 2025 peer and a 2026-07-28 one.
std::string without_tasks_extension(const json::Value* caps) {
  if (caps == nullptr || !caps->IsObject()) return "{}";
  json::Document copy;
  copy.CopyFrom(*caps, copy.GetAllocator());
  auto ext = copy.FindMember("extensions");
  if (ext != copy.MemberEnd() && ext->value.IsObject()) {
    // EraseMember keeps the others in order (RemoveMember would move the last one up).
    if (auto tasks = ext->value.FindMember(k_tasks_extension); tasks != ext->value.MemberEnd()) {
      ext->value.EraseMember(tasks);
    }
    if (ext->value.ObjectEmpty()) copy.EraseMember(ext);
  }
  return json::to_string(copy);
}

/// Whether a `_meta` key is one the revisions reserve (io.modelcontextprotocol/*): the
/// envelope and server info, which each era says in its own place.
bool reserved_meta_key(std::string_view key) {
  return key.rfind("io.modelcontextprotocol/", 0) == 0;
}

/// The members of `meta` that are not reserved (trace context among them) as compact JSON
/// without the braces ("\"traceparent\":\"00-...\""), or empty.
std::string carried_meta(const json::Value* meta) {
  if (meta == nullptr || !meta->IsObject()) return {};
  std::string s;
  for (const auto& m : meta->GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (reserved_meta_key(key)) continue;
    s += (s.empty() ? "" : ",") + json::quote(key) + ":" + json::to_string(m.value);
  }
  return s;
}

}  // namespace

ClientIdentity identity_from_initialize(const json::Value* params) {
  ClientIdentity who;
  if (params == nullptr) return who;
  who.capabilities = without_tasks_extension(json::member(*params, "capabilities"));
  who.info = compact_or(json::member(*params, "clientInfo"), "");
  return who;
}

ClientIdentity identity_from_meta(const json::Value& message) {
  ClientIdentity who;
  const auto* params = json::member(message, "params");
  const auto* meta = params ? json::member(*params, "_meta") : nullptr;
  if (meta == nullptr) return who;
  who.capabilities =
      without_tasks_extension(json::member(*meta, modern::k_meta_client_capabilities));
  who.info = compact_or(json::member(*meta, modern::k_meta_client_info), "");
  who.log_level = std::string(json::string_or_empty(json::member(*meta, modern::k_meta_log_level)));
  return who;
}

std::string envelope(const ClientIdentity& who) {
  std::string s = "{\"" + std::string(modern::k_meta_protocol_version) +
                  "\":" + json::quote(modern::k_version) + ",\"" +
                  modern::k_meta_client_capabilities + "\":" + who.capabilities;
  if (!who.info.empty()) s += ",\"" + std::string(modern::k_meta_client_info) + "\":" + who.info;
  if (!who.log_level.empty()) {
    s += ",\"" + std::string(modern::k_meta_log_level) + "\":" + json::quote(who.log_level);
  }
  return s + "}";
}

std::string stamp(json::Document& message, const ClientIdentity& who) {
  auto& a = message.GetAllocator();
  auto& params = params_object(message);
  auto meta_it = params.FindMember("_meta");
  if (meta_it == params.MemberEnd() || !meta_it->value.IsObject()) {
    set_member(params, "_meta", json::Value(rapidjson::kObjectType), a);
    meta_it = params.FindMember("_meta");
  }
  auto& meta = meta_it->value;
  set_member(meta, modern::k_meta_protocol_version, string_value(modern::k_version, a), a);
  set_member(meta, modern::k_meta_client_capabilities, parsed(who.capabilities, a), a);
  if (!who.info.empty()) set_member(meta, modern::k_meta_client_info, parsed(who.info, a), a);
  if (!who.log_level.empty()) {
    set_member(meta, modern::k_meta_log_level, string_value(who.log_level, a), a);
  }
  return json::to_string(message);
}

std::string strip(json::Document& message) {
  auto params = message.FindMember("params");
  if (params != message.MemberEnd() && params->value.IsObject()) {
    auto meta = params->value.FindMember("_meta");
    if (meta != params->value.MemberEnd() && meta->value.IsObject()) {
      for (auto it = meta->value.MemberBegin(); it != meta->value.MemberEnd();) {
        if (reserved_meta_key(std::string_view(it->name.GetString(), it->name.GetStringLength()))) {
          it = meta->value.EraseMember(it);
        } else {
          ++it;
        }
      }
      if (meta->value.MemberCount() == 0) params->value.EraseMember(meta);
    }
  }
  return json::to_string(message);
}

std::string initialize_result(const json::Value& discover_result,
                              std::string_view requested_version) {
  std::string_view version = modern::k_latest_legacy_version;
  for (auto v : k_legacy_versions) {
    if (v == requested_version) version = v;
  }
  const auto* meta = json::member(discover_result, "_meta");
  const auto* info = meta ? json::member(*meta, modern::k_meta_server_info) : nullptr;
  if (info == nullptr) info = json::member(discover_result, "serverInfo");
  // The Tasks extension's handles (resultType "task", tasks/get polling) are not the 2025
  // tasks a 2025 client knows, and the bridge does not translate them: not offered.
  auto capabilities = without_tasks_extension(json::member(discover_result, "capabilities"));
  std::string s = "{\"protocolVersion\":" + json::quote(version) +
                  ",\"capabilities\":" + capabilities + ",\"serverInfo\":" +
                  compact_or(info, "{\"name\":\"remote MCP server\",\"version\":\"unknown\"}");
  if (const auto* instructions = json::member(discover_result, "instructions");
      instructions && instructions->IsString()) {
    s += ",\"instructions\":" + json::to_string(*instructions);
  }
  // Its own `_meta` (trace context, SEP-414) goes with it; server info moved out above.
  auto carried = carried_meta(meta);
  if (!carried.empty()) s += ",\"_meta\":{" + carried + "}";
  return s + "}";
}

std::string initialize_params(const ClientIdentity& who) {
  return "{\"protocolVersion\":" + json::quote(modern::k_latest_legacy_version) +
         ",\"capabilities\":" + who.capabilities + ",\"clientInfo\":" +
         (who.info.empty() ? std::string("{\"name\":\"claribi-bridge\",\"version\":\"0\"}")
                           : who.info) +
         "}";
}

std::string discover_result(const json::Value& initialize_result) {
  auto info = compact_or(json::member(initialize_result, "serverInfo"),
                         "{\"name\":\"remote MCP server\",\"version\":\"unknown\"}");
  std::string s =
      "{\"resultType\":\"complete\",\"ttlMs\":0,\"cacheScope\":\"private\",\"supportedVersions\":"
      "[" +
      json::quote(modern::k_version) + "],\"capabilities\":" +
      without_tasks_extension(json::member(initialize_result, "capabilities"));
  if (const auto* instructions = json::member(initialize_result, "instructions");
      instructions && instructions->IsString()) {
    s += ",\"instructions\":" + json::to_string(*instructions);
  }
  auto carried = carried_meta(json::member(initialize_result, "_meta"));
  return s + ",\"_meta\":{\"" + modern::k_meta_server_info + "\":" + info +
         (carried.empty() ? "" : "," + carried) + "}}";
}

bool is_task_handle(const json::Value& result) {
  const auto* type = json::member(result, "resultType");
  return type != nullptr && type->IsString() && std::string_view(type->GetString()) == "task";
}

bool strip_task_augmentation(json::Document& request) {
  auto params = request.FindMember("params");
  if (params == request.MemberEnd() || !params->value.IsObject()) return false;
  return params->value.RemoveMember("task");
}

bool mark_complete(json::Document& response, std::string_view method) {
  auto result = response.FindMember("result");
  if (result == response.MemberEnd() || !result->value.IsObject()) return false;
  auto& r = result->value;
  auto& a = response.GetAllocator();
  bool changed = false;
  if (!r.HasMember("resultType")) {
    r.AddMember("resultType", "complete", a);
    changed = true;
  }
  const bool cacheable = method == "tools/list" || method == "prompts/list" ||
                         method == "resources/list" || method == "resources/templates/list" ||
                         method == "resources/read";
  if (cacheable && !r.HasMember("ttlMs")) {
    r.AddMember("ttlMs", 0, a);
    changed = true;
  }
  if (cacheable && !r.HasMember("cacheScope")) {
    r.AddMember("cacheScope", "private", a);
    changed = true;
  }
  return changed;
}

bool mark_complete(jsonrpc::Message& response, std::string_view method) {
  const auto* result = json::member(response.doc, "result");
  if (result == nullptr || !result->IsObject()) return false;
  const auto had = result->MemberCount();
  if (!mark_complete(response.doc, method)) return false;
  if (!response.trimmed) {
    response.raw = json::to_string(response.doc);
    return true;
  }
  std::string added;
  for (auto it = result->MemberBegin() + had; it != result->MemberEnd(); ++it) {
    if (!added.empty()) added += ',';
    added += json::to_string(it->name) + ":" + json::to_string(it->value);
  }
  if (!jsonrpc::add_first_members(response.raw, "result", added)) {
    // Not in the text as the document has it (an escaped key): write it out again, whole.
    jsonrpc::make_whole(response);
    mark_complete(response.doc, method);
    response.raw = json::to_string(response.doc);
  }
  return true;
}

bool is_input_required(const json::Value& result) {
  return json::string_or_empty(json::member(result, "resultType")) == "input_required";
}

Result<InputRequired> parse_input_required(const json::Value& result) {
  InputRequired ir;
  if (const auto* state = json::member(result, "requestState")) {
    if (!state->IsString()) return fail("its requestState is not a string");
    ir.has_state = true;
    ir.state.assign(state->GetString(), state->GetStringLength());
  }
  if (const auto* requests = json::member(result, "inputRequests")) {
    if (!requests->IsObject()) return fail("its inputRequests is not an object");
    for (const auto& r : requests->GetObject()) {
      auto method = json::string_or_empty(json::member(r.value, "method"));
      if (method.empty()) {
        return fail("input request '" + std::string(r.name.GetString()) + "' names no method");
      }
      const auto* params = json::member(r.value, "params");
      ir.requests.push_back(InputRequest{std::string(r.name.GetString(), r.name.GetStringLength()),
                                         std::string(method),
                                         params ? json::to_string(*params) : std::string()});
    }
  }
  if (ir.requests.empty() && !ir.has_state) {
    return fail("it has neither inputRequests nor requestState");
  }
  return ir;
}

std::string retry_request(const std::string& original, const std::string& new_id,
                          const std::map<std::string, std::string>& responses,
                          const InputRequired& asked) {
  auto doc = json::parse_or_null(original);
  auto& a = doc.GetAllocator();
  set_member(doc, "id", parsed(new_id, a), a);
  auto& params = params_object(doc);
  params.RemoveMember("inputResponses");
  params.RemoveMember("requestState");
  if (!responses.empty()) {
    json::Value answers(rapidjson::kObjectType);
    for (const auto& [key, result] : responses) {
      answers.AddMember(string_value(key, a), parsed(result, a), a);
    }
    params.AddMember("inputResponses", std::move(answers), a);
  }
  if (asked.has_state) params.AddMember("requestState", string_value(asked.state, a), a);
  return json::to_string(doc);
}

}  // namespace claribi::daemon::era
