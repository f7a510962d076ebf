#include "util/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>

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

void encode_triples(const std::uint8_t* in, std::size_t n, char* out) {
  // EVP_EncodeBlock writes a NUL after the text; callers leave room for it.
  constexpr std::size_t k_step = std::size_t{3} << 28;  // keeps the length an int
  for (std::size_t done = 0; done < n; done += k_step) {
    std::size_t part = std::min(k_step, n - done);
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out + done / 3 * 4), in + done,
                    static_cast<int>(part));
  }
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
