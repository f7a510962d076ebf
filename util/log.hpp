#pragma once

#include <sstream>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace claribi::log {

enum class Level { trace = 0, debug, info, warn, error, off };

Result<Level> parse_level(std::string_view name);

/// Sends logs to stderr (path empty) or appends to the file at `path`.
/// Call once at start, before other threads exist.
Result<void> configure(Level level, const std::string& path);

bool enabled(Level level);

/// Thread-safe. Redacts before writing; never touches stdout.
void write(Level level, std::string_view message);

/// Remembers a secret value so every later log line has it replaced. Thread-safe.
void add_secret(std::string_view secret);

/// Replaces known secrets, Authorization-like header values, bearer tokens, clariBI keys,
/// token-like JSON members and query parameters with a marker. Truncates very long text.
std::string redact(std::string_view text);

}  // namespace claribi::log

#define CLARIBI_LOG(level, expr)                                                  \
  do {                                                                            \
    if (::claribi::log::enabled(::claribi::log::Level::level)) {                  \
      std::ostringstream claribi_log_os_;                                         \
      claribi_log_os_ << expr;                                                    \
      ::claribi::log::write(::claribi::log::Level::level, claribi_log_os_.str()); \
    }                                                                             \
  } while (0)
