#include "transport/http_transport.hpp"

#include "util/base64.hpp"
#include "util/text.hpp"

namespace claribi::transport {

std::uint64_t UploadBody::total() const {
  return prefix.size() + base64::encoded_size(file_size) + suffix.size();
}

std::string HttpHead::header(std::string_view name) const {
  auto want = text::lower(name);
  for (const auto& h : headers) {
    if (text::lower(h.name) == want) return h.value;
  }
  return {};
}

}  // namespace claribi::transport
