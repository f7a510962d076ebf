#include "transport/discover.hpp"

#include "transport/modern.hpp"
#include "util/log.hpp"

namespace claribi::transport {
namespace {

using Kind = DiscoverVerdict::Kind;

/// The verdict on a JSON-RPC error, however it came (in a 2xx or a 4xx body). The errors
/// only a 2026-07-28 server gives mean modern: the probe is fixed and sent again once, and
/// then the remote is one the bridge cannot talk to, never a 2025 server.
DiscoverVerdict error_verdict(const json::Value& error, int attempt) {
  const auto* code = json::member(error, "code");
  const int number = code != nullptr && code->IsInt() ? code->GetInt() : 0;
  const auto* data = json::member(error, "data");
  const auto* supported = data ? json::member(*data, "supported") : nullptr;
  if (number == modern::k_header_mismatch) {
    if (attempt == 0) {
      return {Kind::ask_again, "the remote refused server/discover as HeaderMismatch: a " +
                                   std::string(modern::k_version) +
                                   " server; asking again with the headers computed from the body"};
    }
    return {Kind::unsupported, "the remote refused server/discover twice as HeaderMismatch (" +
                                   log::redact(json::to_string(error)) + ")"};
  }
  if (number == modern::k_unsupported_version && (supported == nullptr || !supported->IsArray())) {
    if (attempt == 0) {
      return {Kind::ask_again,
              "the remote refused server/discover as an unsupported version without listing "
              "its own: a modern server; asking again"};
    }
    return {Kind::unsupported,
            "the remote refused server/discover twice as an unsupported version without saying "
            "which it speaks; this bridge speaks " +
                std::string(modern::k_version) + " and the 2025 revisions"};
  }
  if (number == modern::k_unsupported_version) {
    bool ours = false;
    std::string modern_list;
    for (const auto& v : supported->GetArray()) {
      auto version = json::string_or_empty(&v);
      if (version == modern::k_version) ours = true;
      if (modern::is_modern_version(version)) {
        modern_list += (modern_list.empty() ? "" : ", ") + std::string(version);
      }
    }
    if (ours && attempt == 0) {
      return {Kind::ask_again,
              "the remote refused the first server/discover as an unsupported version while "
              "listing " +
                  std::string(modern::k_version) + "; asking again"};
    }
    if (!modern_list.empty()) {
      return {Kind::unsupported, "the remote speaks MCP " + modern_list +
                                     (ours ? " but refused it twice" : "") +
                                     "; this bridge speaks " + std::string(modern::k_version) +
                                     " and the 2025 revisions"};
    }
    // It lists 2025 revisions only: those are what it speaks, through initialize.
  }
  return {Kind::legacy, "the remote answered server/discover with an error (" +
                            log::redact(json::to_string(error)) +
                            "): a 2025 server; using initialize"};
}

}  // namespace

DiscoverVerdict discover_verdict(long status, const json::Value* response, int attempt) {
  const auto* error = response ? json::member(*response, "error") : nullptr;
  if (status / 100 == 2) {
    if (error != nullptr) return error_verdict(*error, attempt);
    const auto* result = response ? json::member(*response, "result") : nullptr;
    const auto* versions = result ? json::member(*result, "supportedVersions") : nullptr;
    if (versions != nullptr && versions->IsArray()) {
      for (const auto& v : versions->GetArray()) {
        if (json::string_or_empty(&v) == modern::k_version) {
          return {Kind::modern,
                  "the remote speaks MCP " + std::string(modern::k_version) + " (stateless)"};
        }
      }
    }
    return {Kind::legacy,
            "the remote's server/discover names no revision this bridge speaks; using "
            "initialize"};
  }
  if (status == 401 || status == 403) {
    // A 4xx without a modern error body means a legacy server; whether it is one is learnt
    // again once credentials exist.
    return {Kind::assumed_legacy, "the remote wants credentials for server/discover (HTTP " +
                                      std::to_string(status) +
                                      "); assuming a 2025 server until there are some"};
  }
  if (status >= 500) return {Kind::server_failed, {}};
  if (error != nullptr) return error_verdict(*error, attempt);
  return {Kind::legacy, "the remote refused server/discover (HTTP " + std::to_string(status) +
                            "): a 2025 server"};
}

bool refuses_as_modern(const json::Value& response) {
  const auto* error = json::member(response, "error");
  const auto* code = error ? json::member(*error, "code") : nullptr;
  if (code == nullptr || !code->IsInt()) return false;
  if (code->GetInt() == modern::k_header_mismatch) return true;
  if (code->GetInt() != modern::k_unsupported_version) return false;
  const auto* data = json::member(*error, "data");
  const auto* supported = data ? json::member(*data, "supported") : nullptr;
  if (supported == nullptr || !supported->IsArray()) return false;
  for (const auto& v : supported->GetArray()) {
    if (v.IsString() && modern::is_modern_version(json::string_or_empty(&v))) return true;
  }
  return false;
}

bool body_refuses_as_modern(std::string_view body) {
  if (body.find("-3202") == std::string_view::npos) return false;
  auto parsed = jsonrpc::parse_body(std::string(body));
  return parsed && parsed->size() == 1 && refuses_as_modern(parsed->front().doc);
}

void probe_era(ProbeLink& link, std::string url, std::string meta_json, bool during_auth,
               std::function<void(Result<Discovery>)> done, int attempt) {
  auto o = std::make_shared<Outgoing>();
  o->kind = jsonrpc::Kind::request;
  o->method = "server/discover";
  o->id = json::quote(link.internal_id("discover"));
  o->raw = jsonrpc::request(o->id, "server/discover", "{\"_meta\":" + meta_json + "}");
  o->internal = true;
  o->modern = true;
  o->may_log_in = false;  // the bridge's own request: a refusal is an answer, not a login
  o->during_auth = during_auth;
  // The headers come from the body, as a server checks them (HeaderMismatch otherwise).
  auto sent = json::parse_or_null(o->raw);
  auto version = modern::envelope_version(sent);
  o->headers = modern::request_headers(version.empty() ? modern::k_version : version,
                                       "server/discover", sent);
  auto judge = [&link, url, meta_json, attempt, during_auth, done](long status,
                                                                   jsonrpc::Message* response) {
    auto verdict = discover_verdict(status, response ? &response->doc : nullptr, attempt);
    using Kind = DiscoverVerdict::Kind;
    if (verdict.kind == Kind::server_failed) {
      done(claribi::fail("HTTP " + std::to_string(status) + " from " + url +
                         " to server/discover: the remote failed; try again later"));
      return;
    }
    if (verdict.kind == Kind::unsupported) {
      done(claribi::fail(verdict.note));
      return;
    }
    CLARIBI_LOG(info, verdict.note);
    if (verdict.kind == Kind::ask_again) {
      probe_era(link, url, meta_json, during_auth, done, attempt + 1);
    } else if (verdict.kind == Kind::modern) {
      done(Discovery{true, std::move(*response)});
    } else {
      Discovery legacy;
      legacy.assumed = verdict.kind == Kind::assumed_legacy;
      done(std::move(legacy));
    }
  };
  o->on_answer = [judge, done](Result<jsonrpc::Message> answer) {
    if (!answer) {
      done(claribi::fail("learning the remote's protocol revision failed: " +
                         answer.error().message));
      return;
    }
    judge(200, &*answer);
  };
  o->on_refused = [judge, done](long status, const std::string& body, const std::string& why) {
    if (status == 0) {
      done(claribi::fail(why));
      return;
    }
    auto parsed = jsonrpc::parse_body(std::string(body));
    judge(status, parsed && parsed->size() == 1 ? &parsed->front() : nullptr);
  };
  link.post(std::move(o));
}

}  // namespace claribi::transport
