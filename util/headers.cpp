#include "util/headers.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

namespace claribi {
namespace {

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<std::string> expand_env(std::string_view text, const EnvLookup& env) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size() || text[i + 1] != '{') {
      out += text[i];
      continue;
    }
    auto close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return fail("unterminated '${' in '" + std::string(text.substr(0, 40)) + "'");
    }
    std::string name(text.substr(i + 2, close - i - 2));
    if (name.empty()) return fail("empty variable name '${}'");
    auto value = env(name);
    if (!value) return fail("environment variable " + name + " is not set");
    out += *value;
    i = close;
  }
  return out;
}

Result<Header> parse_header(std::string_view line, const EnvLookup& env) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos) {
    return fail("header '" + std::string(line.substr(0, 40)) +
                "' is not of the form 'Name: value'");
  }
  auto name = text::trim(line.substr(0, colon));
  if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
    return fail("'" + std::string(name) + "' is not a valid HTTP header name");
  }
  auto value = expand_env(text::trim(line.substr(colon + 1)), env);
  if (!value) return fail("header " + std::string(name) + ": " + value.error().message);
  if (value->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    return fail("header " + std::string(name) + ": the value contains a line break or NUL");
  }
  return Header{std::string(name), *value};
}

Result<std::vector<Header>> read_header_file(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path);
  if (!in) return fail("cannot read header file '" + path + "'");
  std::vector<Header> out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto t = text::trim(line);
    if (t.empty() || t.front() == '#') continue;
    auto h = parse_header(t, env);
    if (!h) return fail(path + ":" + std::to_string(number) + ": " + h.error().message);
    out.push_back(std::move(*h));
  }
  return out;
}

bool is_secret_header(std::string_view name) {
  auto n = text::lower(name);
  return n == "authorization" || n == "proxy-authorization" || n == "cookie" ||
         n.find("key") != std::string::npos || n.find("token") != std::string::npos ||
         n.find("secret") != std::string::npos;
}

}  // namespace claribi
