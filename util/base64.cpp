#include "util/base64.hpp"

#include <cstring>

namespace claribi::base64 {
namespace {

constexpr char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void encode_tail(const std::uint8_t* in, std::size_t n, char* out) {
  // n is 1 or 2
  std::uint32_t v = static_cast<std::uint32_t>(in[0]) << 16;
  if (n == 2) v |= static_cast<std::uint32_t>(in[1]) << 8;
  out[0] = k_alphabet[(v >> 18) & 63];
  out[1] = k_alphabet[(v >> 12) & 63];
  out[2] = n == 2 ? k_alphabet[(v >> 6) & 63] : '=';
  out[3] = '=';
}

}  // namespace

namespace {

/// The two characters of every 12-bit value: one lookup per half of a 3-byte group.
struct PairTable {
  char pairs[4096 * 2];
  PairTable() {
    for (int i = 0; i < 4096; ++i) {
      pairs[i * 2] = k_alphabet[i >> 6];
      pairs[i * 2 + 1] = k_alphabet[i & 63];
    }
  }
};

const char* pairs() {
  static const PairTable table;
  return table.pairs;
}

}  // namespace

void encode_triples(const std::uint8_t* in, std::size_t n, char* out) {
  const char* p = pairs();
  for (std::size_t i = 0; i + 3 <= n; i += 3, out += 4) {
    std::uint32_t v = (static_cast<std::uint32_t>(in[i]) << 16) |
                      (static_cast<std::uint32_t>(in[i + 1]) << 8) | in[i + 2];
    std::memcpy(out, p + (v >> 12) * 2, 2);
    std::memcpy(out + 2, p + (v & 0xfff) * 2, 2);
  }
  *out = '\0';
}

std::string encode(const void* data, std::size_t n) {
  std::string out;
  StreamEncoder e;
  e.feed(data, n, out);
  e.finish(out);
  return out;
}

void StreamEncoder::feed(const void* data, std::size_t n, std::string& out) {
  const auto* in = static_cast<const std::uint8_t*>(data);
  // Complete a group begun by the previous piece.
  while (m_carried > 0 && m_carried < 3 && n > 0) {
    m_carry[m_carried++] = *in++;
    --n;
  }
  if (m_carried == 3) {
    auto at = out.size();
    out.resize(at + 4);
    encode_triples(m_carry, 3, &out[at]);
    m_carried = 0;
  } else if (m_carried > 0) {
    return;  // the piece ended inside the group
  }
  std::size_t whole = n / 3 * 3;
  auto at = out.size();
  out.resize(at + whole / 3 * 4);
  encode_triples(in, whole, &out[at]);
  for (std::size_t i = whole; i < n; ++i) m_carry[m_carried++] = in[i];
}

void StreamEncoder::finish(std::string& out) {
  if (m_carried == 0) return;
  auto at = out.size();
  out.resize(at + 4);
  encode_tail(m_carry, m_carried, &out[at]);
  m_carried = 0;
}

}  // namespace claribi::base64
