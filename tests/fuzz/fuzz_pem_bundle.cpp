// CA bundles from outside: the platform's bundle file, SSL_CERT_FILE and --ca-file, joined
// with the OS store's certificates into the one bundle libcurl is given (tls::compose_bundle).
//
// Input: up to four parts separated by RS: the base bundle, the extra file, a certificate
// the store adds, one it denies (the last two as raw DER bytes).
#include "tests/fuzz/fuzz_input.hpp"
#include "util/tls_trust.hpp"

#include <string>

using namespace claribi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = fuzz::split(fuzz::as_text(data, size), 4);
  std::string added(parts[2]), denied(parts[3]);
  auto out = tls::compose_bundle(parts[0], {added}, {denied}, parts[1]);
  fuzz::check(out.size() <= parts[0].size() + parts[1].size() + tls::pem_certificate(added).size() +
                                8 * (size + 1),
              "the bundle is bounded by its inputs");
  // The output is made of whole blocks: composing it again changes nothing.
  fuzz::check(tls::compose_bundle(out, {}, {}, "") == out, "a composed bundle is a fixed point");
  // Nothing denied is left: denying it again changes nothing.
  fuzz::check(tls::compose_bundle(out, {}, {denied}, "") == out,
              "a denied certificate is taken out");
  return 0;
}
