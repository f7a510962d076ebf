// The base64 encoder's throughput beside OpenSSL's EVP_EncodeBlock, encoding the way the
// upload path does: 48 KiB of file at a time into one reused buffer. A measurement, not a
// test: scripts/bench-upload prints it.
#include "util/base64.hpp"

#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>

using namespace claribi;

int main() {
  std::mt19937 rng(1);
  std::string in(48 << 20, '\0');
  for (auto& c : in) c = static_cast<char>(rng() & 0xff);
  constexpr std::size_t piece = 48 * 1024;
  std::string chunk(piece / 3 * 4 + 1, '\0');
  std::size_t sum = 0;
  auto time = [&](auto&& encode) {
    auto t0 = std::chrono::steady_clock::now();
    for (int round = 0; round < 5; ++round) {
      for (std::size_t off = 0; off < in.size(); off += piece) {
        encode(reinterpret_cast<const unsigned char*>(in.data()) + off);
        sum += static_cast<unsigned char>(chunk[off % (chunk.size() - 1)]);
      }
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return 5.0 * static_cast<double>(in.size()) / s / 1e9;
  };
  double ours =
      time([&](const unsigned char* p) { base64::encode_triples(p, piece, chunk.data()); });
  double openssl = time([&](const unsigned char* p) {
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(chunk.data()), p, piece);
  });
  std::printf(
      "base64 encoder: %.3f GB/s of input; OpenSSL EVP_EncodeBlock %.3f GB/s (checksum %zu)\n",
      ours, openssl, sum);
  return 0;
}
