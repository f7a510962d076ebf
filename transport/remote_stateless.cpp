// What the Remote does with the answers only a 2026-07-28 remote gives: a request refused
// as HeaderMismatch (or an unsupported version it names) is fixed and sent again.

#include "transport/remote.hpp"

#include "transport/modern.hpp"
#include "util/log.hpp"

namespace claribi::transport {

bool Remote::resend_fixed(const std::shared_ptr<Outgoing>& o, const std::string& body) {
  if (!o->modern || o->internal || o->fixes > 0 || o->kind != jsonrpc::Kind::request || m_closing ||
      body.find("-3202") == std::string::npos) {
    return false;
  }
  auto parsed = jsonrpc::parse_body(std::string(body));
  if (!parsed || parsed->size() != 1) return false;
  const auto& answer = parsed->front();
  const auto* error = json::member(answer.doc, "error");
  if (answer.kind != jsonrpc::Kind::response || answer.id != o->id || error == nullptr) {
    return false;
  }
  auto request = json::parse_or_null(o->raw);
  auto claimed = modern::envelope_version(request);
  std::string version(claimed.empty() ? std::string_view(o->version) : claimed);
  if (!modern::fixable_refusal(*error, version)) return false;
  ++o->fixes;
  // What the server compares: the headers, computed again from the body they describe.
  auto derived = modern::request_headers(version, o->method, request);
  o->headers.erase(o->headers.begin(),
                   o->headers.begin() + static_cast<std::ptrdiff_t>(o->derived_headers));
  o->headers.insert(o->headers.begin(), derived.begin(), derived.end());
  o->derived_headers = derived.size();
  CLARIBI_LOG(info, "request " << o->id << " (" << o->method << ") refused as "
                               << log::redact(json::to_string(*error))
                               << "; sending it again with its headers computed from its body");
  o->transfer = 0;
  post(o);
  return true;
}

}  // namespace claribi::transport
