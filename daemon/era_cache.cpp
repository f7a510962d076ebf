#include "daemon/era_cache.hpp"

#include "oauth/file_lock.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/platform.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

namespace claribi::daemon {
namespace {

/// A dated revision, "YYYY-MM-DD", of the 2025 era (2024-11-05 included).
bool is_2025_revision(std::string_view v) {
  if (v.size() != 10 || v[4] != '-' || v[7] != '-') return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i != 4 && i != 7 && (v[i] < '0' || v[i] > '9')) return false;
  }
  return v < "2026-07-28" && v >= "2024-11-05";
}

/// Leeway for a clock set back a little since the verdict was written.
constexpr std::int64_t k_future_leeway_s = 300;

}  // namespace

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string EraCache::path_for(const Url& url) {
  std::string key = url.scheme + "://" + url.host;
  if (!url.port.empty()) key += ":" + url.port;
  key += url.path.empty() ? "/" : url.path;
  return oauth::state_path_for(key, "era", ".json");
}

std::optional<EraVerdict> EraCache::parse(std::string_view text, std::int64_t now) {
  if (text.size() > k_max_bytes) return std::nullopt;
  json::Document doc;
  if (!json::parse(doc, text) || !doc.IsObject()) return std::nullopt;
  const auto* version = json::member(doc, "v");
  const auto* era = json::member(doc, "era");
  const auto* learnt = json::member(doc, "learnt_at");
  const auto* revision = json::member(doc, "revision");
  if (version == nullptr || !version->IsInt() || version->GetInt() != 1) return std::nullopt;
  if (era == nullptr || !era->IsString() || learnt == nullptr || !learnt->IsInt64()) {
    return std::nullopt;
  }
  EraVerdict v;
  auto name = json::string_or_empty(era);
  if (name == "2026-07-28") {
    v.modern = true;
  } else if (name != "2025") {
    return std::nullopt;
  }
  if (revision != nullptr) {
    if (!revision->IsString() || v.modern) return std::nullopt;
    auto r = json::string_or_empty(revision);
    if (!r.empty() && !is_2025_revision(r)) return std::nullopt;
    v.revision = std::string(r);
  }
  v.learnt_at = learnt->GetInt64();
  if (v.learnt_at > now + k_future_leeway_s || now - v.learnt_at >= k_lifetime_s) {
    return std::nullopt;
  }
  return v;
}

std::string EraCache::serialize(const EraVerdict& v) {
  std::string out = "{\"v\":1,\"era\":";
  out += v.modern ? "\"2026-07-28\"" : "\"2025\"";
  if (!v.modern && is_2025_revision(v.revision)) out += ",\"revision\":" + json::quote(v.revision);
  out += ",\"learnt_at\":" + std::to_string(v.learnt_at) + "}\n";
  return out;
}

std::optional<EraVerdict> EraCache::load(std::int64_t now) const {
  if (m_path.empty()) return std::nullopt;
  platform::InputFile file;
  if (!file.open(m_path)) return std::nullopt;  // none yet: the usual first start
  auto info = file.info();
  if (!info || info->kind != platform::FileInfo::Kind::regular || info->size > k_max_bytes) {
    CLARIBI_LOG(debug, "remembered era ignored: " << m_path << " is not a small regular file");
    return std::nullopt;
  }
  std::string text(k_max_bytes + 1, '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    long n = file.read(text.data() + got, text.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  auto v = parse(text, now);
  if (!v) {
    CLARIBI_LOG(debug,
                "remembered era ignored: " << m_path << " is expired, malformed or too large");
  }
  return v;
}

void EraCache::store(const EraVerdict& v) const {
  if (m_path.empty()) return;
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path path(m_path);
  fs::create_directories(path.parent_path(), ec);
  if (ec) {
    CLARIBI_LOG(debug,
                "cannot remember the era: " << path.parent_path().string() << ": " << ec.message());
    return;
  }
  std::random_device random;
  auto temp = m_path + ".tmp" + std::to_string(random());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    fs::permissions(temp, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace,
                    ec);
    out << serialize(v);
    out.flush();
    if (!out || ec) {
      fs::remove(temp, ec);
      CLARIBI_LOG(debug, "cannot remember the era: cannot write " << temp);
      return;
    }
  }
  if (auto replaced = platform::replace_file(temp, m_path); !replaced) {
    fs::remove(temp, ec);
    CLARIBI_LOG(debug, "cannot remember the era: " << replaced.error().message);
  }
}

void EraCache::forget() const {
  if (m_path.empty()) return;
  std::error_code ec;
  std::filesystem::remove(m_path, ec);
}

}  // namespace claribi::daemon
