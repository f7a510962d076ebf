#include "util/log.hpp"
#include "util/platform.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <regex>
#include <vector>

namespace claribi::log {
namespace {

constexpr std::size_t k_max_logged_chars = 4000;

std::atomic<int> g_level{static_cast<int>(Level::info)};
std::mutex g_mutex;
std::FILE* g_sink = nullptr;  // nullptr means stderr
std::vector<std::string> g_secrets;

const char* level_name(Level l) {
  switch (l) {
    case Level::trace:
      return "trace";
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
    case Level::off:
      return "off";
  }
  return "?";
}

struct Rule {
  std::regex pattern;
  const char* replacement;
};

const std::vector<Rule>& rules() {
  static const std::vector<Rule> r = [] {
    auto icase = std::regex::ECMAScript | std::regex::icase;
    return std::vector<Rule>{
        {std::regex(
             R"(((?:proxy-)?authorization|cookie|set-cookie|x-api-key|api-key)(\s*:\s*)[^\r\n]*)",
             icase),
         "$1$2[redacted]"},
        {std::regex(R"((bearer|basic)\s+[A-Za-z0-9._~+/=-]+)", icase), "$1 [redacted]"},
        {std::regex(R"(claribi_mcp_[A-Za-z0-9_-]+)"), "claribi_mcp_[redacted]"},
        {std::regex(
             R"re(("(?:access_token|refresh_token|id_token|client_secret|code_verifier|api_key|apikey|password|token|authorization)"\s*:\s*)"(?:[^"\\]|\\.)*")re",
             icase),
         "$1\"[redacted]\""},
        {std::regex(
             R"(([?&](?:access_token|refresh_token|token|code|client_secret|code_verifier|api_key|apikey|key)=)[^&#\s]+)",
             icase),
         "$1[redacted]"},
    };
  }();
  return r;
}

}  // namespace

Result<Level> parse_level(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Level::off); ++i) {
    if (name == level_name(static_cast<Level>(i))) return static_cast<Level>(i);
  }
  return fail("unknown log level '" + std::string(name) +
              "' (use trace, debug, info, warn, error or off)");
}

Result<void> configure(Level level, const std::string& path) {
  g_level = static_cast<int>(level);
  if (path.empty()) return {};
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) return fail("cannot open log file '" + path + "' for appending");
  std::lock_guard<std::mutex> lock(g_mutex);
  g_sink = f;
  return {};
}

bool enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed) && level != Level::off;
}

void add_secret(std::string_view secret) {
  if (secret.size() < 4) return;  // too short to replace without mangling ordinary text
  std::lock_guard<std::mutex> lock(g_mutex);
  if (std::find(g_secrets.begin(), g_secrets.end(), secret) != g_secrets.end()) return;
  g_secrets.emplace_back(secret);
}

std::string redact(std::string_view text) {
  std::string out(text);
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    constexpr std::string_view k_mark = "[redacted]";
    for (const auto& s : g_secrets) {
      if (s.empty()) continue;
      // Go on after the mark: a secret such as "dact" is found in the mark itself.
      for (auto pos = out.find(s); pos != std::string::npos;
           pos = out.find(s, pos + k_mark.size())) {
        out.replace(pos, s.size(), k_mark);
      }
    }
  }
  if (out.size() > k_max_logged_chars) {
    auto total = out.size();
    out.resize(k_max_logged_chars);
    out += "... (" + std::to_string(total) + " bytes)";
  }
  for (const auto& r : rules()) out = std::regex_replace(out, r.pattern, r.replacement);
  return out;
}

void write(Level level, std::string_view message) {
  if (!enabled(level)) return;
  std::string line = redact(message);
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm = platform::utc_time(t);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
  std::lock_guard<std::mutex> lock(g_mutex);
  std::FILE* f = g_sink != nullptr ? g_sink : stderr;
  std::fprintf(f, "%s.%03dZ claribi-bridge %s: %s\n", stamp, static_cast<int>(ms),
               level_name(level), line.c_str());
  std::fflush(f);
}

}  // namespace claribi::log
