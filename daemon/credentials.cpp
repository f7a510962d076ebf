#include "daemon/credentials.hpp"

#include "util/text.hpp"

#include <cctype>

namespace claribi::daemon {
namespace {

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.' ||
         c == '~' || c == '+' || c == '/' || c == '=';
}

constexpr std::size_t k_min_key_tail = 8;

/// The value of `"name": "value"` written inside a text (a JSON document serialized into a
/// content block), if present.
std::optional<std::string> quoted_field(std::string_view text, std::string_view name) {
  std::string needle = "\"" + std::string(name) + "\"";
  for (auto at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1)) {
    auto i = at + needle.size();
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0) ++i;
    if (i >= text.size() || text[i] != ':') continue;
    ++i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0) ++i;
    if (i >= text.size() || text[i] != '"') continue;
    auto end = text.find('"', i + 1);
    if (end == std::string_view::npos) continue;
    auto value = text.substr(i + 1, end - i - 1);
    if (!value.empty() && value.find('\\') == std::string_view::npos) return std::string(value);
  }
  return std::nullopt;
}

void scan(const CaptureRule& rule, const json::Value& v, Minted& out) {
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      if (m.value.IsString() && m.value.GetStringLength() > 0) {
        std::string value(m.value.GetString(), m.value.GetStringLength());
        if (!rule.key_field.empty() && name == rule.key_field && out.api_key.empty()) {
          out.api_key = value;
        }
        if (name == "access_token" && out.access_token.empty()) out.access_token = value;
      }
      scan(rule, m.value, out);
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) scan(rule, e, out);
  } else if (v.IsString()) {
    std::string_view s(v.GetString(), v.GetStringLength());
    if (out.api_key.empty() && !rule.key_prefix.empty()) {
      for (auto at = s.find(rule.key_prefix); at != std::string_view::npos;
           at = s.find(rule.key_prefix, at + 1)) {
        if (at > 0 && is_token_char(s[at - 1])) continue;  // inside a longer word
        auto end = at + rule.key_prefix.size();
        while (end < s.size() && is_token_char(s[end])) ++end;
        while (end > at && s[end - 1] == '.') --end;  // the end of a sentence
        if (end - at - rule.key_prefix.size() >= k_min_key_tail) {
          out.api_key = std::string(s.substr(at, end - at));
          break;
        }
      }
    }
    if (out.api_key.empty() && !rule.key_field.empty()) {
      if (auto f = quoted_field(s, rule.key_field)) out.api_key = *f;
    }
    if (out.access_token.empty()) {
      if (auto f = quoted_field(s, "access_token")) out.access_token = *f;
    }
  }
}

void replace_all(std::string& s, const std::string& what, std::string_view with) {
  if (what.empty()) return;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size())) {
    s.replace(at, what.size(), with);
  }
}

void redact(json::Value& v, json::Document::AllocatorType& a, const Minted& minted,
            std::string_view key_note, std::string_view token_note) {
  if (v.IsObject()) {
    for (auto& m : v.GetObject()) redact(m.value, a, minted, key_note, token_note);
  } else if (v.IsArray()) {
    for (auto& e : v.GetArray()) redact(e, a, minted, key_note, token_note);
  } else if (v.IsString()) {
    std::string s(v.GetString(), v.GetStringLength());
    std::string before = s;
    replace_all(s, minted.api_key, key_note);
    replace_all(s, minted.access_token, token_note);
    if (s != before) v.SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
  }
}

}  // namespace

Result<std::optional<std::string>> api_key_from_env(const std::optional<std::string>& value) {
  if (!value) return std::optional<std::string>();
  auto v = std::string(text::trim(*value));
  if (v.empty() || v.rfind("${user_config.", 0) == 0) return std::optional<std::string>();
  if (v.rfind("__encrypted__:", 0) == 0) {
    return fail(
        "CLARIBI_API_KEY arrived still encrypted (__encrypted__:...): the MCP client failed to "
        "decrypt the extension's sensitive setting. Enter the API key again in the extension's "
        "settings (or reinstall it), or store it with 'claribi-bridge key set' and leave the "
        "setting empty.");
  }
  return std::optional<std::string>(std::move(v));
}

std::string_view source_name(CredentialSource s) {
  switch (s) {
    case CredentialSource::header:
      return "--header";
    case CredentialSource::environment:
      return "CLARIBI_API_KEY";
    case CredentialSource::keychain:
      return "keychain";
    case CredentialSource::minted:
      return "minted this session";
    case CredentialSource::oauth:
      return "OAuth login";
    case CredentialSource::none:
      return "none";
  }
  return "none";
}

CaptureRule default_capture_rule() {
  return CaptureRule{"verify_email", "claribi_mcp_", "api_key"};
}

Result<CaptureRule> parse_capture_rule(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return fail("--capture-key wants TOOL=KEY_PREFIX or TOOL=field:NAME, got '" +
                std::string(text) + "'");
  }
  CaptureRule rule;
  rule.tool = std::string(text.substr(0, eq));
  auto pattern = text.substr(eq + 1);
  if (pattern.rfind("field:", 0) == 0) {
    rule.key_field = std::string(pattern.substr(6));
    if (rule.key_field.empty()) return fail("--capture-key: field: needs a name");
  } else {
    rule.key_prefix = std::string(pattern);
  }
  return rule;
}

std::optional<Minted> find_minted(const CaptureRule& rule, const json::Value& response) {
  const auto* result = json::member(response, "result");
  if (result == nullptr) return std::nullopt;
  Minted out;
  scan(rule, *result, out);
  if (out.api_key.empty() && out.access_token.empty()) return std::nullopt;
  return out;
}

void redact_minted(json::Document& response, const Minted& minted, std::string_view key_note,
                   std::string_view token_note) {
  auto it = response.FindMember("result");
  if (it == response.MemberEnd()) return;
  redact(it->value, response.GetAllocator(), minted, key_note, token_note);
}

}  // namespace claribi::daemon
