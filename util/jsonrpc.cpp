#include "util/jsonrpc.hpp"

#include <algorithm>

namespace claribi::jsonrpc {
namespace {

/// The text of the top-level id of a message of which only `head` and `tail` are kept.
std::optional<std::string_view> scan_id(std::string_view head, std::string_view tail);

tl::expected<Message, Invalid> classify(json::Document doc, std::string raw) {
  if (!doc.IsObject()) {
    return tl::unexpected(
        Invalid{code::invalid_request, "a JSON-RPC message must be an object", {}});
  }
  Message m;
  const json::Value* id = json::member(doc, "id");
  const json::Value* method = json::member(doc, "method");
  if (id != nullptr && !id->IsNull()) {
    m.id = id_text(*id);
    if (m.id.empty()) {
      // A fraction or an integer past 64 bits: answered with the id as written, which the
      // client can match, though the bridge cannot promise a remote would keep its digits.
      std::string written;
      if (auto v = id->IsNumber() ? scan_id(raw, {}) : std::nullopt) {
        json::Document number;
        if (json::parse(number, *v) && number.IsNumber()) written = std::string(*v);
      }
      return tl::unexpected(Invalid{code::invalid_request,
                                    "the id must be a string or an integer that fits in 64-bit "
                                    "(MCP allows string and integer ids)",
                                    written});
    }
  }
  auto version = json::string_or_empty(json::member(doc, "jsonrpc"));
  if (version != "2.0") {
    return tl::unexpected(
        Invalid{code::invalid_request, "the message lacks \"jsonrpc\": \"2.0\"", m.id});
  }
  if (method != nullptr) {
    if (!method->IsString()) {
      return tl::unexpected(Invalid{code::invalid_request, "the method must be a string", m.id});
    }
    m.method.assign(method->GetString(), method->GetStringLength());
    if (id != nullptr && id->IsNull()) {
      return tl::unexpected(Invalid{code::invalid_request, "a request id must not be null", {}});
    }
    m.kind = m.id.empty() ? Kind::notification : Kind::request;
  } else {
    bool has_result = json::member(doc, "result") != nullptr;
    bool has_error = json::member(doc, "error") != nullptr;
    if (id == nullptr || has_result == has_error) {
      return tl::unexpected(Invalid{
          code::invalid_request,
          "not a request, notification or response (needs a method, or an id with exactly one "
          "of result and error)",
          m.id});
    }
    m.kind = Kind::response;
  }
  m.raw = std::move(raw);
  m.doc = std::move(doc);
  return m;
}

/// Only a single message with a kept id may stay trimmed: a response (`request_method` empty)
/// or a request of `request_method`, which its reader takes care to parse whole before it
/// rewrites one. Other requests' and notifications' params are read and rewritten in many
/// places, and each element of a batch is written out again.
bool may_stay_trimmed(const json::Document& doc, std::string_view request_method) {
  const auto* id = json::member(doc, "id");
  if (id == nullptr || (id->IsString() && id->GetString() == json::k_trimmed)) return false;
  const auto* method = json::member(doc, "method");
  if (method == nullptr) return request_method.empty();
  return !request_method.empty() && json::string_or_empty(method) == request_method;
}

/// Parses `text`, leaving strings over k_longest_kept out when it is larger than that, and
/// parses it again whole unless the message may stay so.
tl::expected<void, json::ParseError> parse_maybe_trimmed(json::Document& doc,
                                                         const std::string& text, bool trim,
                                                         std::string_view request_method,
                                                         bool& trimmed) {
  trimmed = false;
  auto ok = trim && text.size() > k_longest_kept ? json::parse(doc, text, k_longest_kept, trimmed)
                                                 : json::parse(doc, text);
  if (!ok) return ok;
  if (trimmed && !may_stay_trimmed(doc, request_method)) {
    json::Document whole;  // a new pool: the trimmed document's goes with it
    (void)json::parse(whole, text);
    doc = std::move(whole);
    trimmed = false;
  }
  return {};
}

Invalid parse_failure(const json::ParseError& e) {
  return Invalid{
      code::parse_error, "Parse error: " + e.message + " at byte " + std::to_string(e.offset), {}};
}

}  // namespace

std::string id_text(const json::Value& v) {
  if (v.IsString() && v.GetString() == json::k_trimmed) return {};  // left out: no id to name
  if (v.IsString() || v.IsInt64() || v.IsUint64()) return json::to_string(v);
  return {};
}

void flatten(std::string& text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
}

tl::expected<Message, Invalid> parse(std::string text, std::string_view trim_method) {
  json::Document doc;
  bool trimmed = false;
  if (auto ok = parse_maybe_trimmed(doc, text, !trim_method.empty(), trim_method, trimmed); !ok) {
    return tl::unexpected(parse_failure(ok.error()));
  }
  flatten(text);
  auto m = classify(std::move(doc), std::move(text));
  if (m) m->trimmed = trimmed;
  return m;
}

tl::expected<std::vector<Message>, Invalid> parse_body(std::string text, bool trim) {
  json::Document doc;
  bool trimmed = false;
  if (auto ok = parse_maybe_trimmed(doc, text, trim, {}, trimmed); !ok) {
    return tl::unexpected(parse_failure(ok.error()));
  }
  std::vector<Message> out;
  if (!doc.IsArray()) {
    flatten(text);
    auto m = classify(std::move(doc), std::move(text));
    if (!m) return tl::unexpected(m.error());
    m->trimmed = trimmed;
    out.push_back(std::move(*m));
    return out;
  }
  for (auto& element : doc.GetArray()) {
    json::Document one;
    one.CopyFrom(element, one.GetAllocator());
    auto raw = json::to_string(one);
    auto m = classify(std::move(one), std::move(raw));
    if (!m) return tl::unexpected(m.error());
    out.push_back(std::move(*m));
  }
  return out;
}

void make_whole(Message& m) {
  if (!m.trimmed) return;
  json::Document doc;
  if (json::parse(doc, m.raw)) {  // it parsed before, trimmed; CR and LF are blanks either way
    m.doc = std::move(doc);
    m.trimmed = false;
  }
}

std::string request(std::string_view id, std::string_view method, std::string_view params_json) {
  std::string out = "{\"jsonrpc\":\"2.0\",\"id\":";
  out += id;
  out += ",\"method\":" + json::quote(method);
  if (!params_json.empty()) {
    out += ",\"params\":";
    out += params_json;
  }
  out += "}";
  return out;
}

std::string notification(std::string_view method, std::string_view params_json) {
  std::string out = "{\"jsonrpc\":\"2.0\",\"method\":" + json::quote(method);
  if (!params_json.empty()) {
    out += ",\"params\":";
    out += params_json;
  }
  out += "}";
  return out;
}

std::string result_response(std::string_view id, std::string_view result_json) {
  std::string out = "{\"jsonrpc\":\"2.0\",\"id\":";
  out += id.empty() ? std::string_view("null") : id;
  out += ",\"result\":";
  out += result_json;
  out += "}";
  return out;
}

std::string tool_error_response(std::string_view id, std::string_view text) {
  return result_response(id, "{\"content\":[{\"type\":\"text\",\"text\":" + json::quote(text) +
                                 "}],\"isError\":true}");
}

std::string error_response(std::string_view id, int code, std::string_view message,
                           std::string_view data_json) {
  std::string out = "{\"jsonrpc\":\"2.0\",\"id\":";
  out += id.empty() ? std::string_view("null") : id;
  out += ",\"error\":{\"code\":" + std::to_string(code) + ",\"message\":" + json::quote(message);
  if (!data_json.empty()) {
    out += ",\"data\":";
    out += data_json;
  }
  out += "}}";
  return out;
}

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_number_char(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/// The string literal or number starting at `pos` (after blanks), if it ends within `s`.
std::optional<std::string_view> value_at(std::string_view s, std::size_t pos) {
  while (pos < s.size() && is_space(s[pos])) ++pos;
  if (pos >= s.size()) return std::nullopt;
  std::size_t end = pos;
  if (s[pos] == '"') {
    for (end = pos + 1; end < s.size(); ++end) {
      if (s[end] == '\\') {
        ++end;
      } else if (s[end] == '"') {
        return s.substr(pos, end + 1 - pos);
      }
    }
    return std::nullopt;
  }
  while (end < s.size() && is_number_char(s[end])) ++end;
  if (end == pos || end == s.size()) return std::nullopt;  // no number, or maybe cut
  return s.substr(pos, end - pos);
}

/// The value of a top-level "id" written last: `..., "id": VALUE }` at the end of `tail`.
std::optional<std::string_view> trailing_id(std::string_view tail) {
  std::size_t end = tail.size();
  auto skip_back = [&] {
    while (end > 0 && is_space(tail[end - 1])) --end;
  };
  skip_back();
  if (end == 0 || tail[end - 1] != '}') return std::nullopt;
  --end;
  skip_back();
  if (end == 0) return std::nullopt;
  std::size_t value_end = end;
  if (tail[end - 1] == '"') {
    // The opening quote: the first quote to the left not escaped by an odd run of '\\'.
    std::size_t i = end - 1;
    for (;;) {
      if (i == 0) return std::nullopt;
      --i;
      if (tail[i] != '"') continue;
      std::size_t slashes = 0;
      while (slashes < i && tail[i - 1 - slashes] == '\\') ++slashes;
      if (slashes % 2 == 0) break;
    }
    end = i;
  } else {
    while (end > 0 && is_number_char(tail[end - 1])) --end;
    if (end == value_end) return std::nullopt;
  }
  std::size_t value_start = end;
  skip_back();
  if (end == 0 || tail[end - 1] != ':') return std::nullopt;
  --end;
  skip_back();
  if (end < 4 || tail.substr(end - 4, 4) != "\"id\"") return std::nullopt;
  end -= 4;
  skip_back();
  if (end == 0 || (tail[end - 1] != ',' && tail[end - 1] != '{')) return std::nullopt;
  return tail.substr(value_start, value_end - value_start);
}

}  // namespace

namespace {

/// `text` when it is a JSON string or integer (what an id may be), else nothing.
std::optional<std::string> usable_id(std::string_view text) {
  json::Document doc;
  if (!json::parse(doc, text) || id_text(doc).empty()) return std::nullopt;
  return std::string(text);
}

/// Where the value of the top-level member `key` starts (after the colon, before any blanks),
/// if `head` gets that far. Tracks depth and strings only: `head` need not be whole.
std::optional<std::size_t> after_key(std::string_view head, std::string_view key) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  std::size_t string_start = 0;
  std::string_view last_string;
  for (std::size_t i = 0; i < head.size(); ++i) {
    char c = head[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
        last_string = head.substr(string_start, i - string_start);
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      string_start = i + 1;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ':' && depth == 1 && last_string == key) {
      return i + 1;
    } else if (c == ',' || c == ':') {
      last_string = {};
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> scan_id(std::string_view head, std::string_view tail) {
  if (auto at = after_key(head, "id")) return value_at(head, *at);
  // Serializers that put the id last: ..., "id": 7}
  return trailing_id(tail);
}

}  // namespace

std::optional<std::string> find_id(std::string_view head, std::string_view tail) {
  auto v = scan_id(head, tail);
  return v ? usable_id(*v) : std::nullopt;
}

bool add_first_members(std::string& text, std::string_view key, std::string_view members) {
  auto at = after_key(text, key);
  if (!at) return false;
  std::size_t open = *at;
  while (open < text.size() && is_space(text[open])) ++open;
  if (open >= text.size() || text[open] != '{') return false;
  std::size_t next = open + 1;
  while (next < text.size() && is_space(text[next])) ++next;
  if (next >= text.size()) return false;
  std::string insert(members);
  if (text[next] != '}') insert += ',';
  text.insert(open + 1, insert);  // in place when the text has room: no second copy
  return true;
}

}  // namespace claribi::jsonrpc
