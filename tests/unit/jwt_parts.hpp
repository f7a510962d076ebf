#pragma once

// Reading JWTs the bridge made back into their parts, for the OAuth units.

#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include <string>

namespace claribi::test {

/// Base64url (padding optional) back to bytes.
inline std::string unbase64url(std::string s) {
  for (auto& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4 != 0) s += '=';
  std::string out(s.size(), '\0');
  int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  REQUIRE(n >= 0);
  out.resize(static_cast<std::size_t>(n) - (s.size() - s.find_last_not_of('=') - 1));
  return out;
}

/// The decoded payload (claims JSON) of a compact JWS.
inline std::string jwt_claims(const std::string& jwt) {
  auto d1 = jwt.find('.');
  auto d2 = jwt.rfind('.');
  REQUIRE(d1 != std::string::npos);
  REQUIRE(d2 > d1);
  return unbase64url(jwt.substr(d1 + 1, d2 - d1 - 1));
}

}  // namespace claribi::test
