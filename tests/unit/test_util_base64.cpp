#include "util/base64.hpp"

#include <openssl/evp.h>
#include <catch2/catch.hpp>

#include <random>

using namespace claribi;

namespace {

std::string reference(const std::string& in) {
  std::string out(base64::encoded_size(in.size()) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

}  // namespace

TEST_CASE("base64 matches RFC 4648 vectors and OpenSSL on every length up to 200") {
  CHECK(base64::encode("", 0).empty());
  CHECK(base64::encode("f", 1) == "Zg==");
  CHECK(base64::encode("fo", 2) == "Zm8=");
  CHECK(base64::encode("foo", 3) == "Zm9v");
  CHECK(base64::encode("foob", 4) == "Zm9vYg==");
  CHECK(base64::encode("fooba", 5) == "Zm9vYmE=");
  CHECK(base64::encode("foobar", 6) == "Zm9vYmFy");
  for (std::size_t n = 0; n <= 200; ++n) {
    auto in = random_bytes(n, static_cast<unsigned>(n));
    INFO(n);
    CHECK(base64::encode(in.data(), in.size()) == reference(in));
    CHECK(base64::encoded_size(n) == reference(in).size());
  }
}

TEST_CASE("the stream encoder gives the same text for the input cut at every point") {
  auto in = random_bytes(61, 7);
  auto want = reference(in);
  for (std::size_t a = 0; a <= in.size(); ++a) {
    for (std::size_t b = a; b <= in.size(); ++b) {
      base64::StreamEncoder e;
      std::string out;
      e.feed(in.data(), a, out);
      e.feed(in.data() + a, b - a, out);
      e.feed(in.data() + b, in.size() - b, out);
      e.finish(out);
      INFO(a << " " << b);
      REQUIRE(out == want);
    }
  }
  // byte by byte
  base64::StreamEncoder e;
  std::string out;
  for (char c : in) e.feed(&c, 1, out);
  e.finish(out);
  CHECK(out == want);
}

TEST_CASE("the upload path's whole-triple encoder agrees with OpenSSL piece by piece") {
  // The way the upload path encodes: 48 KiB of file at a time into one reused buffer.
  auto in = random_bytes(1 << 20, 7);
  constexpr std::size_t piece = 48 * 1024;
  std::string chunk(piece / 3 * 4 + 1, '\0');
  std::string whole;
  for (std::size_t off = 0; off + piece <= in.size(); off += piece) {
    base64::encode_triples(reinterpret_cast<const std::uint8_t*>(in.data()) + off, piece,
                           chunk.data());
    whole.append(chunk.data(), piece / 3 * 4);
  }
  CHECK(whole == reference(in.substr(0, in.size() / piece * piece)));
}
