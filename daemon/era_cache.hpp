#pragma once

// The remote's era remembered across restarts: one small file per remote (origin and path)
// in the state dir, <state dir>/era/<hash>.json, saying whether it spoke 2026-07-28 or a
// 2025 revision (which one, when known) and when that was learnt. MCP 2026-07-28, versioning
// (backward compatibility): clients SHOULD cache the era per origin and MAY persist it
// across restarts, re-probing when it fails; the era negotiator does the re-probing. The file
// is outside input: bounded, validated, and ignored (with a debug log) when it is anything
// but a well-formed verdict younger than a day. It holds no secret and no URL.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/url.hpp"

namespace claribi::daemon {

/// What was learnt of one remote's era.
struct EraVerdict {
  bool modern = false;         ///< 2026-07-28 (stateless); else a 2025 revision
  std::string revision;        ///< the 2025 revision its initialize chose, when known
  std::int64_t learnt_at = 0;  ///< seconds since the Unix epoch
};

class EraCache {
 public:
  /// How long a verdict is believed without asking again.
  static constexpr std::int64_t k_lifetime_s = 24 * 3600;
  /// The largest file read; a verdict is about 80 bytes.
  static constexpr std::size_t k_max_bytes = 1024;

  /// The file of the remote at `url`: keyed by its origin and path (not its query).
  static std::string path_for(const Url& url);

  /// `path` empty: remembers nothing (a pinned --protocol, unit tests).
  explicit EraCache(std::string path = {}) : m_path(std::move(path)) {}

  bool enabled() const { return !m_path.empty(); }
  /// The verdict in force at `now`, if the file holds one.
  std::optional<EraVerdict> load(std::int64_t now) const;
  /// Writes `v` in place of what was there, atomically, 0600. Failures are logged only.
  void store(const EraVerdict& v) const;
  /// Removes the file (a verdict the remote contradicted).
  void forget() const;

  /// The pure halves, also fuzzed: a verdict from the file's text, checked against `now`
  /// (expired, from the future, malformed, too large: none), and the text of a verdict.
  static std::optional<EraVerdict> parse(std::string_view text, std::int64_t now);
  static std::string serialize(const EraVerdict& v);

 private:
  std::string m_path;
};

/// Seconds since the Unix epoch, now.
std::int64_t unix_now();

}  // namespace claribi::daemon
