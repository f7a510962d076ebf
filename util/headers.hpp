#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace claribi {

struct Header {
  std::string name;
  std::string value;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

/// The process environment.
EnvLookup process_env();

/// Expands every `${NAME}` in `text` from `env`. `$` not followed by `{` is literal.
/// An unset variable or an unterminated `${` is an error naming it.
Result<std::string> expand_env(std::string_view text, const EnvLookup& env);

/// Parses "Name: value" (value expanded with `expand_env`). Refuses names that are not
/// HTTP tokens and values with CR, LF or NUL (header injection).
Result<Header> parse_header(std::string_view line, const EnvLookup& env);

/// One header a line; blank lines and lines starting with '#' are skipped.
Result<std::vector<Header>> read_header_file(const std::string& path, const EnvLookup& env);

/// True for headers whose value is a credential (Authorization, Cookie, *-Key, *Token*...).
bool is_secret_header(std::string_view name);

}  // namespace claribi
