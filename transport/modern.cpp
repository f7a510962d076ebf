#include "transport/modern.hpp"

#include "util/base64.hpp"
#include "util/text.hpp"

#include <array>
#include <cctype>
#include <unordered_map>

namespace claribi::transport::modern {
namespace {

constexpr std::string_view k_sentinel_prefix = "=?base64?";
constexpr std::string_view k_sentinel_suffix = "?=";

const json::Value* params_of(const json::Value& message) {
  return json::member(message, "params");
}

bool needs_base64(std::string_view s) {
  if (s.empty()) return true;  // an empty field value cannot be told from an absent one
  if (s.size() >= k_sentinel_prefix.size() + k_sentinel_suffix.size() &&
      s.substr(0, k_sentinel_prefix.size()) == k_sentinel_prefix &&
      s.substr(s.size() - k_sentinel_suffix.size()) == k_sentinel_suffix) {
    return true;
  }
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  if (blank(s.front()) || blank(s.back())) return true;
  for (unsigned char c : s) {
    if (c != '\t' && (c < 0x20 || c > 0x7e)) return true;
  }
  return false;
}

/// RFC 9110 token characters.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 && c < 0x80) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos)
      continue;
    return false;
  }
  return true;
}

/// Subschema keywords an `x-mcp-header` must not sit under (only a chain of `properties`
/// reaches a header parameter).
constexpr std::array<const char*, 18> k_unreachable = {"items",
                                                       "prefixItems",
                                                       "contains",
                                                       "additionalProperties",
                                                       "unevaluatedProperties",
                                                       "unevaluatedItems",
                                                       "propertyNames",
                                                       "patternProperties",
                                                       "dependentSchemas",
                                                       "oneOf",
                                                       "anyOf",
                                                       "allOf",
                                                       "not",
                                                       "if",
                                                       "then",
                                                       "else",
                                                       "$defs",
                                                       "definitions"};

/// Keywords whose value maps names to subschemas, rather than being one.
bool is_schema_map(std::string_view keyword) {
  return keyword == "patternProperties" || keyword == "dependentSchemas" || keyword == "$defs" ||
         keyword == "definitions";
}

std::string path_name(const std::vector<std::string>& path) {
  if (path.empty()) return "<root>";
  std::string s;
  for (const auto& p : path) s += (s.empty() ? "" : ".") + p;
  return s;
}

struct Scanner {
  std::vector<HeaderParam> found;
  std::unordered_map<std::string, std::string> seen;  ///< lower-case name → as declared

  std::string visit(const json::Value& node, std::vector<std::string>& path, bool reachable) {
    if (!node.IsObject()) return {};
    if (const auto* raw = json::member(node, "x-mcp-header")) {
      if (!reachable || path.empty()) {
        return path_name(path) +
               ": x-mcp-header is only allowed on properties reached through 'properties' alone";
      }
      if (!raw->IsString() || raw->GetStringLength() == 0) {
        return path_name(path) + ": x-mcp-header must be a non-empty string";
      }
      std::string name(raw->GetString(), raw->GetStringLength());
      if (!is_token(name)) {
        return path_name(path) + ": x-mcp-header '" + name + "' is not an HTTP token";
      }
      auto type = json::string_or_empty(json::member(node, "type"));
      if (type != "string" && type != "integer" && type != "boolean") {
        return path_name(path) +
               ": x-mcp-header is only allowed on string, integer or boolean properties, not '" +
               std::string(type.empty() ? "<none>" : type) + "'";
      }
      auto lower = text::lower(name);
      if (auto it = seen.find(lower); it != seen.end()) {
        return "x-mcp-header '" + name + "' is declared twice (also as '" + it->second + "')";
      }
      seen.emplace(lower, name);
      found.push_back(HeaderParam{path, name});
    }
    if (const auto* props = json::member(node, "properties"); props && props->IsObject()) {
      for (const auto& p : props->GetObject()) {
        path.emplace_back(p.name.GetString(), p.name.GetStringLength());
        auto fault = visit(p.value, path, reachable);
        path.pop_back();
        if (!fault.empty()) return fault;
      }
    }
    for (const char* keyword : k_unreachable) {
      const auto* sub = json::member(node, keyword);
      if (sub == nullptr) continue;
      path.push_back(std::string("<") + keyword + ">");
      std::string fault;
      if (sub->IsArray()) {
        for (const auto& b : sub->GetArray()) {
          if (fault.empty()) fault = visit(b, path, false);
        }
      } else if (sub->IsObject() && is_schema_map(keyword)) {
        for (const auto& b : sub->GetObject()) {
          if (fault.empty()) fault = visit(b.value, path, false);
        }
      } else {
        fault = visit(*sub, path, false);
      }
      path.pop_back();
      if (!fault.empty()) return fault;
    }
    return {};
  }
};

}  // namespace

std::string_view envelope_version(const json::Value& message) {
  const auto* params = params_of(message);
  const auto* meta = params ? json::member(*params, "_meta") : nullptr;
  return json::string_or_empty(meta ? json::member(*meta, k_meta_protocol_version) : nullptr);
}

std::string encode_header_value(std::string_view value) {
  if (!needs_base64(value)) return std::string(value);
  return std::string(k_sentinel_prefix) + base64::encode(value.data(), value.size()) +
         std::string(k_sentinel_suffix);
}

std::vector<std::string> standard_headers(std::string_view method, const json::Value& message) {
  std::vector<std::string> h;
  h.push_back("Mcp-Method: " + encode_header_value(method));
  const char* field = nullptr;
  if (method == "tools/call" || method == "prompts/get") {
    field = "name";
  } else if (method == "resources/read") {
    field = "uri";
  } else if (method.substr(0, 6) == "tasks/" && method != "tasks/list") {
    field = "taskId";
  }
  if (field != nullptr) {
    const auto* params = params_of(message);
    const auto* v = params ? json::member(*params, field) : nullptr;
    if (v != nullptr && v->IsString()) {
      h.push_back("Mcp-Name: " + encode_header_value({v->GetString(), v->GetStringLength()}));
    }
  }
  return h;
}

std::vector<std::string> request_headers(std::string_view version, std::string_view method,
                                         const json::Value& message) {
  std::vector<std::string> h{"MCP-Protocol-Version: " + encode_header_value(version)};
  for (auto& s : standard_headers(method, message)) h.push_back(std::move(s));
  return h;
}

bool fixable_refusal(const json::Value& error, std::string_view version) {
  const auto* code = json::member(error, "code");
  if (code == nullptr || !code->IsInt()) return false;
  if (code->GetInt() == k_header_mismatch) return true;
  if (code->GetInt() != k_unsupported_version) return false;
  const auto* data = json::member(error, "data");
  const auto* supported = data ? json::member(*data, "supported") : nullptr;
  if (supported == nullptr || !supported->IsArray()) return true;
  for (const auto& v : supported->GetArray()) {
    if (json::string_or_empty(&v) == version) return true;
  }
  return false;
}

bool reissue_when_cut(std::string_view method) {
  constexpr std::string_view k_list = "/list";
  if (method.size() > k_list.size() && method.substr(method.size() - k_list.size()) == k_list) {
    return true;
  }
  return method == "resources/read" || method == "prompts/get" || method == "completion/complete" ||
         method == "server/discover";
}

Result<std::vector<HeaderParam>> scan_header_params(const json::Value& input_schema) {
  Scanner s;
  std::vector<std::string> path;
  auto fault = s.visit(input_schema, path, true);
  if (!fault.empty()) return fail(fault);
  return std::move(s.found);
}

std::vector<std::string> param_headers(const std::vector<HeaderParam>& params,
                                       const json::Value* arguments) {
  std::vector<std::string> h;
  for (const auto& p : params) {
    const json::Value* v = arguments;
    for (const auto& key : p.path) {
      v = v ? json::member(*v, key.c_str()) : nullptr;
    }
    if (v == nullptr || v->IsNull()) continue;
    std::string text;
    if (v->IsString()) {
      text.assign(v->GetString(), v->GetStringLength());
    } else if (v->IsBool()) {
      text = v->GetBool() ? "true" : "false";
    } else if (v->IsNumber()) {
      text = json::to_string(*v);
    } else {
      continue;  // not a primitive: sending it malformed would be worse than not at all
    }
    h.push_back("Mcp-Param-" + p.name + ": " + encode_header_value(text));
  }
  return h;
}

}  // namespace claribi::transport::modern
