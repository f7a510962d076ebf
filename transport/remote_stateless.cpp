// What the Remote does with the answers only a 2026-07-28 remote gives: a request refused
// as HeaderMismatch (or an unsupported version it names) is fixed and sent again, and a
// response stream cut before its answer, which that revision cannot resume, is sent again
// under a new id when the request changes nothing, or fails saying what may have happened.

#include "transport/remote.hpp"

#include "transport/modern.hpp"
#include "util/log.hpp"

#include <asio/post.hpp>

namespace claribi::transport {
namespace {

/// Gives `o` a new JSON-RPC id on the wire (`wire_id`, compact JSON): its body, and the part
/// of an upload around the file, rewritten. False when its body holds no id to replace.
bool rename_on_wire(Outgoing& o, const std::string& wire_id) {
  auto doc = json::parse_or_null(o.raw);
  auto id = doc.IsObject() ? doc.FindMember("id") : doc.MemberEnd();
  if (!doc.IsObject() || id == doc.MemberEnd()) return false;
  id->value.CopyFrom(json::parse_or_null(wire_id), doc.GetAllocator());
  auto raw = json::to_string(doc);
  if (o.upload) {
    // The kept text is the body with a placeholder where the file's base64 goes.
    const auto& u = *o.upload;
    const std::string& sent = o.raw.str();
    if (sent.size() < u.prefix.size() + u.suffix.size()) return false;
    auto placeholder =
        sent.substr(u.prefix.size(), sent.size() - u.prefix.size() - u.suffix.size());
    auto at = placeholder.empty() ? std::string::npos : raw.find(placeholder);
    if (at == std::string::npos) return false;
    auto body = std::make_shared<UploadBody>(u);
    body->prefix = raw.substr(0, at);
    body->suffix = raw.substr(at + placeholder.size());
    o.upload = std::move(body);
  }
  o.raw = std::move(raw);
  o.wire_id = wire_id;
  return true;
}

}  // namespace

bool Remote::resend_fixed(const std::shared_ptr<Outgoing>& o, const std::string& body) {
  if (!o->modern || o->internal || o->fixes > 0 || o->kind != jsonrpc::Kind::request || m_closing ||
      body.find("-3202") == std::string::npos) {
    return false;
  }
  auto parsed = jsonrpc::parse_body(std::string(body));
  if (!parsed || parsed->size() != 1) return false;
  const auto& answer = parsed->front();
  const auto* error = json::member(answer.doc, "error");
  if (answer.kind != jsonrpc::Kind::response || answer.id != o->wire() || error == nullptr) {
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

void Remote::stateless_stream_cut(const std::shared_ptr<Outgoing>& o, const HttpDone& done,
                                  long status, const Stream& stream) {
  const bool repeatable =
      o->method == "tools/call" ? !o->at_most_once : modern::reissue_when_cut(o->method);
  if (repeatable && o->reissues == 0 && !m_closing) {
    auto wire_id = json::quote(internal_id("reissue"));
    if (rename_on_wire(*o, wire_id)) {
      ++o->reissues;
      m_renamed[wire_id] = o;
      CLARIBI_LOG(info, "the response stream of request "
                            << o->id << " (" << o->method
                            << ") was cut before its answer; a 2026-07-28 stream cannot be "
                               "resumed, so it goes again as "
                            << wire_id);
      o->transfer = 0;
      asio::post(m_io, [this, o] {
        if (!m_closing && !o->answered) post(o);
      });
      return;
    }
  }
  std::string why = "the remote closed the event stream before answering";
  if (!done.ok) why += " (" + done.error + ")";
  if (o->reissues > 0) why += ", also when the request was sent again";
  if (stream.invalid_events > 0) {
    why += "; it sent " + std::to_string(stream.invalid_events) +
           " event(s) that are not JSON-RPC: " + stream.last_invalid;
  }
  if (o->at_most_once) {
    why +=
        ". A 2026-07-28 stream cannot be resumed, so the call may or may not have run on the "
        "server. Check its effect (list or get what it would have changed) before repeating it.";
  } else {
    why += "; a 2026-07-28 stream cannot be resumed";
  }
  fail(o, why, status);
}

void Remote::restore_client_id(jsonrpc::Message& m) {
  auto it = m_renamed.find(m.id);
  if (it == m_renamed.end()) return;
  auto o = it->second;
  m_renamed.erase(it);
  jsonrpc::make_whole(m);
  m.doc["id"].CopyFrom(json::parse_or_null(o->id), m.doc.GetAllocator());
  m.id = o->id;
  m.raw = json::to_string(m.doc);
}

}  // namespace claribi::transport
