// The translation between 2025 peers and 2026-07-28 ones (daemon/era.hpp): pure rewrites of
// JSON that comes from the client (requests, initialize params, the `_meta` envelope) and from
// the remote (initialize and server/discover results, input_required results, responses).
// Everything they write goes to a peer, so it must be JSON.
//
// Also the remembered era (daemon/era_cache.hpp): the whole input as the file's text, which
// is outside input too; and whether the remote result refuses as only a modern server does.
//
// Input: up to four parts separated by RS (0x1E): a client request, a remote result, the
// client's initialize params, and a protocol version (also tried as a retry's id).
#include "daemon/era.hpp"
#include "daemon/era_cache.hpp"
#include "tests/fuzz/fuzz_input.hpp"
#include "transport/discover.hpp"
#include "util/json.hpp"
#include "util/jsonrpc.hpp"

#include <map>
#include <string>

using namespace claribi;
namespace era = claribi::daemon::era;

namespace {

bool is_object(std::string_view text) {
  json::Document doc;
  return json::parse(doc, text) && doc.IsObject();
}

json::Document copy_of(const json::Document& doc) {
  json::Document out;
  out.CopyFrom(doc, out.GetAllocator());
  return out;
}

/// The last member called `name`: a peer that reads duplicate keys takes the last one.
const json::Value* last_member(const json::Value& obj, std::string_view name) {
  const json::Value* found = nullptr;
  if (!obj.IsObject()) return nullptr;
  for (const auto& m : obj.GetObject()) {
    if (std::string_view(m.name.GetString(), m.name.GetStringLength()) == name) found = &m.value;
  }
  return found;
}

void check_identity(const era::ClientIdentity& who) {
  fuzz::check(is_object(who.capabilities), "an identity's capabilities are a JSON object");
  fuzz::check(who.info.empty() || is_object(who.info), "an identity's info is a JSON object");
  fuzz::check(is_object(era::envelope(who)), "envelope writes a JSON object");
  fuzz::check(is_object(era::initialize_params(who)), "initialize_params writes a JSON object");
}

void check_era_file(std::string_view text) {
  constexpr std::int64_t now = 1800000000;
  auto v = daemon::EraCache::parse(text, now);
  if (!v) return;
  fuzz::check(text.size() <= daemon::EraCache::k_max_bytes, "a verdict file is small");
  fuzz::check(v->learnt_at > now - daemon::EraCache::k_lifetime_s, "a verdict in force is young");
  fuzz::check(!v->modern || v->revision.empty(), "a modern verdict names no 2025 revision");
  auto again = daemon::EraCache::parse(daemon::EraCache::serialize(*v), now);
  fuzz::check(again && again->modern == v->modern && again->revision == v->revision &&
                  again->learnt_at == v->learnt_at,
              "a verdict survives its own text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_era_file(fuzz::as_text(data, size));
  auto parts = fuzz::split(fuzz::as_text(data, size), 4);
  auto request_text = parts[0];
  json::Document request;
  json::Document result;
  json::Document init_params;
  (void)json::parse(request, request_text);
  (void)json::parse(result, parts[1]);
  bool has_params = static_cast<bool>(json::parse(init_params, parts[2]));
  std::string version(parts[3]);

  auto from_init = era::identity_from_initialize(has_params ? &init_params : nullptr);
  check_identity(from_init);
  auto from_meta = era::identity_from_meta(request);
  check_identity(from_meta);

  // The request rewrites take what jsonrpc::parse accepted: an object.
  if (request.IsObject()) {
    auto stamped = copy_of(request);
    auto text = era::stamp(stamped, from_init);
    fuzz::check(is_object(text), "stamp writes a JSON object");
    json::Document back;
    (void)json::parse(back, text);
    const auto* params = json::member(back, "params");
    const auto* meta = params != nullptr ? json::member(*params, "_meta") : nullptr;
    fuzz::check(
        meta != nullptr && json::string_or_empty(json::member(
                               *meta, "io.modelcontextprotocol/protocolVersion")) == "2026-07-28",
        "a stamped request claims 2026-07-28");
    fuzz::check(is_object(era::strip(back)), "strip writes a JSON object");
    auto stripped = copy_of(request);
    fuzz::check(is_object(era::strip(stripped)), "strip writes a JSON object");
    auto untasked = copy_of(request);
    (void)era::strip_task_augmentation(untasked);
  }

  fuzz::check(is_object(era::initialize_result(result, version)),
              "initialize_result writes a JSON object");
  fuzz::check(is_object(era::discover_result(result)), "discover_result writes a JSON object");
  (void)era::is_task_handle(result);
  (void)transport::refuses_as_modern(result);

  // A response of the remote's: result holds the whole message.
  if (result.IsObject()) {
    for (const char* method : {"tools/list", "tools/call", "resources/read"}) {
      auto response = copy_of(result);
      if (era::mark_complete(response, method)) {
        fuzz::check(!era::mark_complete(response, method), "mark_complete changes a message once");
      }
      fuzz::check(is_object(json::to_string(response)), "a marked response is a JSON object");
    }
  }

  if (era::is_input_required(result)) {
    auto asked = era::parse_input_required(result);
    if (asked && request.IsObject()) {
      std::map<std::string, std::string> answers;
      for (const auto& r : asked->requests) {
        answers[r.key] = r.params.empty() ? std::string("{}") : r.params;
      }
      // The retry's id is one the bridge makes; the version part stands in when it is one.
      auto id_doc = json::parse_or_null(version);
      auto id = jsonrpc::id_text(id_doc);
      if (id.empty()) id = "\"claribi-retry-1\"";
      auto retry = era::retry_request(std::string(request_text), id, answers, *asked);
      json::Document back;
      fuzz::check(json::parse(back, retry) && back.IsObject(), "retry_request writes an object");
      if (asked->has_state) {
        const auto* params = json::member(back, "params");
        const auto* state = params ? last_member(*params, "requestState") : nullptr;
        fuzz::check(
            state != nullptr && state->IsString() && json::string_or_empty(state) == asked->state,
            "a retry echoes the request state byte for byte");
      }
    }
  }
  return 0;
}
