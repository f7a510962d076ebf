// Shared by the benchmark's programs (not tests): clocks, quantiles, argument parsing, and
// flat JSON output.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace bench {

/// The requests both measuring programs send, byte for byte the same.
inline std::string initialize(long id, const char* client) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
         R"(,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},)"
         R"("clientInfo":{"name":")" +
         client + R"(","version":"1"}}})";
}
inline std::string echo(long id) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
         R"(,"method":"tools/call","params":{"name":"echo","arguments":{"message":"benchmark"}}})";
}
inline std::string blob(long id, long bytes) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
         R"(,"method":"tools/call","params":{"name":"blob","arguments":{"bytes":)" +
         std::to_string(bytes) + "}}}";
}

inline double now_us() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// The q-quantile of `v` (sorted here), as scripts/bench's Node rows compute it.
inline double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(q * static_cast<double>(v.size()));
  return v[std::min(v.size() - 1, i)];
}

/// `--name value` from argv, or `fallback`.
inline const char* arg(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return fallback;
}
inline long num(int argc, char** argv, const char* name, long fallback) {
  const char* v = arg(argc, argv, name, nullptr);
  return v ? std::strtol(v, nullptr, 10) : fallback;
}
inline bool flag(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return true;
  }
  return false;
}

/// A JSON object written field by field, one line at the end.
class Json {
 public:
  Json& field(const char* name, double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%.3f", v);
    return raw(name, b);
  }
  Json& field(const char* name, long v) { return raw(name, std::to_string(v)); }
  Json& text(const char* name, const std::string& v) { return raw(name, "\"" + v + "\""); }
  Json& raw(const char* name, const std::string& v) {
    m_out += (m_out.empty() ? "{\"" : ",\"") + std::string(name) + "\":" + v;
    return *this;
  }
  std::string str() const { return m_out.empty() ? "{}" : m_out + "}"; }

 private:
  std::string m_out;
};

/// p50, p99, mean and count of latencies in µs.
inline Json latency(const std::vector<double>& us) {
  double sum = 0;
  for (double x : us) sum += x;
  Json j;
  j.field("n", static_cast<long>(us.size()))
      .field("p50_us", quantile(us, 0.5))
      .field("p99_us", quantile(us, 0.99))
      .field("mean_us", us.empty() ? 0.0 : sum / static_cast<double>(us.size()));
  return j;
}

}  // namespace bench
