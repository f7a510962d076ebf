// Log redaction (util/log.hpp): every log line passes through it, and log lines quote what
// remotes and clients send (bodies, headers, URLs). It must finish on any text, and keep
// the secrets it knows out of what it returns.
//
// Input: the text of a log line.
#include "tests/fuzz/fuzz_input.hpp"
#include "util/log.hpp"

#include <string>

using namespace claribi;

namespace {

constexpr const char* k_secret = "s3cr3t-fuzz-value";

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  log::add_secret(k_secret);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::as_text(data, size);
  auto out = log::redact(text);
  fuzz::check(out.find(k_secret) == std::string::npos, "a known secret never reaches a log");
  auto with_secret = log::redact(std::string(text.substr(0, text.size() / 2)) + k_secret +
                                 std::string(text.substr(text.size() / 2)));
  fuzz::check(with_secret.find(k_secret) == std::string::npos,
              "a known secret never reaches a log, whatever surrounds it");
  return 0;
}
