#pragma once

// Shared by the fuzz targets: how a target reads structure out of libFuzzer's bytes, and how
// it reports a broken contract. Layouts are fixed so the seeds in corpus/ stay meaningful.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace claribi::fuzz {

/// ASCII RS: separates the parts of a multi-part input (the JSON text sequence separator of
/// RFC 7464, so it never occurs in the JSON itself unless escaped).
constexpr char k_separator = '\x1e';

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Takes the first byte (0 when there is none).
inline std::uint8_t take_byte(std::string_view& in) {
  if (in.empty()) return 0;
  auto b = static_cast<std::uint8_t>(in.front());
  in.remove_prefix(1);
  return b;
}

/// Takes the first `n` bytes (fewer when the input is shorter).
inline std::string_view take(std::string_view& in, std::size_t n) {
  auto out = in.substr(0, n);
  in.remove_prefix(out.size());
  return out;
}

/// `in` cut at each `separator`, into at most `max_parts` parts (the last keeps the rest,
/// separators included). Missing parts are empty.
inline std::vector<std::string_view> split(std::string_view in, std::size_t max_parts,
                                           char separator = k_separator) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    auto at = in.find(separator);
    if (at == std::string_view::npos) break;
    parts.push_back(in.substr(0, at));
    in.remove_prefix(at + 1);
  }
  parts.push_back(in);
  parts.resize(max_parts);
  return parts;
}

/// Calls `feed` with consecutive pieces of `text` whose lengths cycle through the bytes of
/// `lengths`; a 0 gives an empty piece. Incremental parsers must not care where a stream
/// is cut, so the fuzzer chooses the cuts.
template <class Feed>
void feed_in_pieces(std::string_view text, std::string_view lengths, Feed&& feed) {
  std::size_t i = 0;
  std::size_t zeros = 0;
  while (!text.empty()) {
    std::size_t n =
        lengths.empty() ? text.size() : static_cast<std::uint8_t>(lengths[i++ % lengths.size()]);
    // A cycle of zeros only would never end: the rest goes in one piece.
    if (n == 0 && ++zeros >= lengths.size()) n = text.size();
    if (n != 0) zeros = 0;
    feed(text.substr(0, n));
    text.remove_prefix(std::min(n, text.size()));
  }
}

/// A documented contract does not hold: stops the process so libFuzzer keeps the input.
[[noreturn]] inline void broken(const char* contract) {
  std::fprintf(stderr, "fuzz: contract broken: %s\n", contract);
  std::abort();
}

inline void check(bool holds, const char* contract) {
  if (!holds) broken(contract);
}

}  // namespace claribi::fuzz
