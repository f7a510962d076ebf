#include "daemon/bridge.hpp"
#include "daemon/dpop_transport.hpp"

#include "util/log.hpp"
#include "util/text.hpp"

#include <asio/post.hpp>

#include <sstream>

namespace claribi::daemon {
namespace {

constexpr long k_eof_grace_ms = 400;
constexpr long k_delete_budget_ms = 400;
constexpr long k_hard_deadline_ms = 900;

/// Ids of the bridge's own roots/list requests to the client (compact JSON, no closing quote).
constexpr const char* k_roots_id_prefix = "\"claribi-bridge-roots-";

constexpr std::string_view k_key_stored_note =
    "[API key stored in the OS keychain by claribi-bridge and used from now on; it is not "
    "shown here]";
constexpr std::string_view k_token_note =
    "[access token held by claribi-bridge for this session; it is not shown here]";
constexpr const char* k_exiting =
    "claribi-bridge is exiting (stdin closed or a signal) before the remote answered";

const json::Value* param(const jsonrpc::Message& m, const char* name) {
  const auto* params = json::member(m.doc, "params");
  return params ? json::member(*params, name) : nullptr;
}

std::string progress_token_of(const jsonrpc::Message& m) {
  const auto* meta = param(m, "_meta");
  const auto* token = meta ? json::member(*meta, "progressToken") : nullptr;
  return token ? jsonrpc::id_text(*token) : std::string();
}

/// file:///home/a%20b → /home/a b (RFC 8089 local paths; a host part other than empty or
/// localhost is not a local file).
std::string file_uri_path(std::string s) {
  if (s.rfind("localhost/", 0) == 0) s = s.substr(9);
  if (s.empty() || s.front() != '/') return {};
  return percent_decode(s);
}

}  // namespace

Bridge::Bridge(asio::io_context& io, StdoutWriter& out, BridgeOptions options,
               std::function<void()> on_finished)
    : m_io(io),
      m_out(out),
      m_options(std::move(options)),
      m_on_finished(std::move(on_finished)),
      m_tools(ToolPolicy(m_options.tools), m_options.uploads),
      m_schemas(
          m_tools,
          [this](const std::string& method, const std::string& params,
                 std::function<void(Result<jsonrpc::Message>)> done) {
            m_era.ask_remote(method, params, std::move(done));
          },
          [this](jsonrpc::Message&& call, std::string failure) {
            if (!m_shutting_down) send_request(std::move(call), failure);
          }),
      m_table(io, m_options.timeout_ms, [this](const std::string& id) { on_timeout(id); }),
      m_auth(io,
             AuthOptions{m_options.credential_source, m_options.load_api_key, m_options.oauth,
                         m_options.store_api_key},
             AuthPort{[this](const std::string& a) { remote().set_authorization(a); },
                      [this](Result<std::string> a) { remote().auth_finished(std::move(a)); },
                      [this] { remote(); }}),
      m_broker(io, *this, m_table, [this] { return m_era.identity().capabilities; }),
      m_era(io, m_options.protocol, era_peers(), m_options.timeout_ms,
            EraCache(m_options.protocol == era::Pin::auto_detect ? m_options.era_cache : "")),
      m_grace(io) {
  m_auth.set_after_login(
      [this](const std::string& authorization) { return m_era.after_login(authorization); });
}

Bridge::~Bridge() {
  m_remote.reset();
  m_http.reset();
}

void Bridge::hold_remote_reading(bool hold) {
  m_hold_reading = hold;
  if (m_http) m_http->hold_events(hold);
}

EraPeers Bridge::era_peers() {
  EraRemote r;
  r.discover = [this](const std::string& meta,
                      std::function<void(Result<transport::Discovery>)> done,
                      bool during_auth) { remote().discover(meta, std::move(done), during_auth); };
  r.set_authorization = [this](const std::string& a) { remote().set_authorization(a); };
  r.auth_finished = [this](Result<std::string> a) { remote().auth_finished(std::move(a)); };
  r.hand_back = [this](const std::string& a) { return remote().auth_finished_handing_back(a); };
  r.abandon = [this](const std::string& id) {
    if (m_remote) m_remote->abandon(id);
  };
  return EraPeers{*this,
                  std::move(r),
                  m_auth,
                  m_tools,
                  m_table,
                  m_broker,
                  [this](const jsonrpc::Message& m) { on_client_cancel(m); },
                  [this] { maybe_finish_after_eof(); }};
}

transport::Remote& Bridge::remote() {
  if (!m_remote) {
    m_http = m_options.make_transport
                 ? m_options.make_transport(m_io)
                 : std::make_unique<transport::HttpWorker>(m_io, m_options.remote.cookies);
    if (m_options.oauth) {
      m_http = std::make_unique<DpopTransport>(std::move(m_http), m_options.oauth->dpop());
    }
    if (m_hold_reading) m_http->hold_events(true);
    m_remote = std::make_unique<transport::Remote>(
        m_io, *m_http, m_options.remote,
        transport::RemoteEvents{
            [this](jsonrpc::Message&& m, const std::string& related) {
              on_remote_message(std::move(m), related);
            },
            [this](const std::string& id, transport::RequestFailure&& f) {
              on_remote_failure(id, std::move(f));
            },
            [this](const transport::AuthChallenge& c) { m_auth.on_refused(c); }});
  }
  return *m_remote;
}

void Bridge::reply_error(const std::string& id, int code, const std::string& message) {
  m_out.write_line(jsonrpc::error_response(id, code, message));
}

// ---- from the client ------------------------------------------------------------------

void Bridge::on_line(std::string&& line) {
  if (m_shutting_down) return;
  // A large tools/call (a model's long argument) is parsed without its long strings and goes
  // out as its text came; whatever rewrites it parses it whole first (jsonrpc::make_whole).
  auto parsed = jsonrpc::parse(std::move(line), "tools/call");
  if (!parsed) {
    auto& e = parsed.error();
    CLARIBI_LOG(warn, "invalid message on stdin: " << e.message);
    reply_error(e.id, e.code, e.message);
    return;
  }
  route(std::move(*parsed));
}

void Bridge::route(jsonrpc::Message&& m) {
  if (!m_options.config_error.empty()) {
    if (m.kind == jsonrpc::Kind::request) {
      reply_error(m.id, jsonrpc::code::remote_failed, "claribi-bridge: " + m_options.config_error);
    } else {
      CLARIBI_LOG(debug, "not forwarded (configuration error): " << m.method);
    }
    return;
  }
  if (m.kind == jsonrpc::Kind::response && m.id.rfind(k_roots_id_prefix, 0) == 0) {
    on_roots_answer(m);  // the answer to the bridge's own roots/list, not the remote's
    return;
  }
  if (m.kind == jsonrpc::Kind::response && InputBroker::is_question_id(m.id)) {
    m_broker.on_answer(m);  // an answer to a question the remote embedded in input_required
    return;
  }
  if (m.kind == jsonrpc::Kind::request && m.method == "initialize") {
    const auto* caps = param(m, "capabilities");
    m_client_has_roots = caps != nullptr && json::member(*caps, "roots") != nullptr;
  }
  if (m.kind == jsonrpc::Kind::notification && m_client_has_roots &&
      (m.method == "notifications/initialized" || m.method == "notifications/roots/list_changed")) {
    ask_client_roots();
  }
  if (!m_era.translate(m)) return;
  if (m.kind == jsonrpc::Kind::request) {
    if (m_table.has(m.id) || m_schemas.holds(m.id)) {
      reply_error(m.id, jsonrpc::code::invalid_request,
                  "request id " + m.id + " is already used by a request still in flight");
      return;
    }
    if (m_schemas.hold_if_needed(m)) return;
    send_request(std::move(m));
    return;
  }
  if (m.kind == jsonrpc::Kind::notification && m.method == "notifications/cancelled") {
    on_client_cancel(m);  // and the 2025 remote is told too
  }
  to_remote(std::move(m));
}

void Bridge::send_request(jsonrpc::Message&& m, const std::string& schema_failure) {
  if (!schema_failure.empty()) {
    auto why =
        "claribi-bridge did not send the call: it names a *_path argument, and the tool's "
        "arguments could not be learnt to tell whether that is a local file to send (" +
        schema_failure + "). List the tools and try again.";
    CLARIBI_LOG(info, "request " << m.id << ": " << why);
    m_out.write_line(jsonrpc::tool_error_response(m.id, why));
    return;
  }
  auto prepared = m_tools.prepare_request(m);
  if (prepared.outcome == PreparedRequest::Outcome::rpc_error) {
    CLARIBI_LOG(info, "refused request " << m.id << ": " << prepared.message);
    reply_error(m.id, jsonrpc::code::invalid_params, prepared.message);
    return;
  }
  if (prepared.outcome == PreparedRequest::Outcome::tool_error) {
    CLARIBI_LOG(info, "request " << m.id << ": " << prepared.message);
    m_out.write_line(jsonrpc::tool_error_response(m.id, prepared.message));
    return;
  }
  auto upload = std::move(prepared.upload);
  if (upload) {
    CLARIBI_LOG(info, "request " << m.id << " sends " << upload->path << " (" << upload->file_size
                                 << " bytes) as base64");
  }
  Pending p;
  p.method = m.method;
  if (m_era.rounds_here()) {
    p.raw = m.raw;  // kept for the retry with the client's answers
    p.upload = upload;
  }
  if (m.method == "tools/call") {
    p.tool = std::string(json::string_or_empty(param(m, "name")));
  }
  p.progress_token = progress_token_of(m);
  m_table.add(m.id, std::move(p));
  to_remote(std::move(m), std::move(upload));
}

void Bridge::to_remote(jsonrpc::Message&& m, std::shared_ptr<const transport::UploadBody> upload) {
  if (!m_auth.must_wait()) {  // every message after the lookup: no closure, no allocation
    send_now(std::move(m), std::move(upload));
    return;
  }
  auto held = std::make_shared<std::pair<jsonrpc::Message, decltype(upload)>>(std::move(m),
                                                                              std::move(upload));
  m_auth.when_ready([this, held] { send_now(std::move(held->first), std::move(held->second)); });
}

void Bridge::send_now(jsonrpc::Message&& m, std::shared_ptr<const transport::UploadBody> upload) {
  transport::SendExtras extras;
  extras.headers = m_tools.param_headers(m);
  extras.at_most_once = m_tools.must_not_repeat(m);
  extras.stateless_version = m_era.stateless_version(m);
  if (auto may = m_era.may_log_in(m.id)) extras.may_log_in = *may;
  if (upload) {
    const auto* p = m_table.find(m.id);
    if (p != nullptr && !p->progress_token.empty()) {
      extras.on_upload_progress = [this, id = m.id](std::uint64_t sent, std::uint64_t total) {
        on_upload_progress(id, sent, total);
      };
    }
    extras.upload = std::move(upload);
  }
  remote().send(std::move(m), std::move(extras));
}

void Bridge::on_client_cancel(const jsonrpc::Message& m) {
  const auto* rid = param(m, "requestId");
  if (rid == nullptr) return;
  auto id = jsonrpc::id_text(*rid);
  if (m_schemas.cancel(id)) {
    CLARIBI_LOG(debug, "request " << id << " cancelled while its tool's schema was learnt");
    return;
  }
  if (!m_table.has(id)) return;
  drop(id);
  CLARIBI_LOG(debug, "request " << id << " cancelled by the client; its upstream stream is closed");
}

void Bridge::drop(const std::string& client_id) {
  auto upstream = m_table.upstream_id_of(client_id);
  m_broker.forget_round(client_id);
  m_table.forget_alias(upstream);
  forget(client_id);
  if (m_remote) m_remote->abandon(upstream);
}

void Bridge::ask_client_roots() {
  // The client's roots open their directories for uploads, like --upload-dir.
  auto id = std::string(k_roots_id_prefix) + std::to_string(++m_roots_requests) + "\"";
  m_out.write_line(jsonrpc::request(id, "roots/list"));
}

void Bridge::on_roots_answer(const jsonrpc::Message& m) {
  const auto* result = json::member(m.doc, "result");
  const auto* roots = result ? json::member(*result, "roots") : nullptr;
  if (roots == nullptr || !roots->IsArray()) {
    CLARIBI_LOG(warn, "the client's answer to roots/list has no roots: " << log::redact(m.raw));
    return;
  }
  std::vector<std::string> paths;
  for (const auto& r : roots->GetArray()) {
    auto uri = std::string(json::string_or_empty(json::member(r, "uri")));
    if (uri.rfind("file://", 0) != 0) continue;
    auto path = file_uri_path(uri.substr(7));
    if (!path.empty() && path.front() == '/') paths.push_back(std::move(path));
  }
  CLARIBI_LOG(info, "the client's roots open " << paths.size() << " director"
                                               << (paths.size() == 1 ? "y" : "ies")
                                               << " for uploads");
  m_tools.set_roots(std::move(paths));
}

void Bridge::on_oversized(LineFramer::Oversized&& line) {
  auto limit = m_options.remote.max_message_bytes;
  auto id = jsonrpc::find_id(line.head, line.tail).value_or("");
  std::string message = "message of " + std::to_string(line.size) + " bytes exceeds the limit of " +
                        std::to_string(limit) + " bytes (--max-message-mb); it was not forwarded";
  CLARIBI_LOG(warn, message << (id.empty() ? " (no id found)" : " (id " + id + ")"));
  reply_error(id, jsonrpc::code::invalid_request, message);
}

// ---- the request table's events ------------------------------------------------------

void Bridge::on_upload_progress(const std::string& id, std::uint64_t sent, std::uint64_t total) {
  auto* p = m_table.find(id);
  if (p == nullptr) return;
  p->uploaded = sent;
  m_table.arm(id);  // an upload that moves is not stuck
  json::Document params(rapidjson::kObjectType);
  auto& a = params.GetAllocator();
  params.AddMember("progressToken", json::Value(json::parse_or_null(p->progress_token), a), a);
  params.AddMember("progress", json::Value(static_cast<std::uint64_t>(sent)), a);
  params.AddMember("total", json::Value(static_cast<std::uint64_t>(total)), a);
  params.AddMember("message", "claribi-bridge: file bytes sent", a);
  m_out.write_line(jsonrpc::notification("notifications/progress", json::to_string(params)));
}

void Bridge::forget(const std::string& id) {
  m_table.forget(id);
  maybe_finish_after_eof();
}

void Bridge::on_timeout(const std::string& id) {
  std::string method = m_table.find(id)->method;
  auto upstream = m_table.upstream_id_of(id);
  drop(id);
  std::ostringstream msg;
  msg << "claribi-bridge: no answer from the remote within " << m_options.timeout_ms / 1000.0
      << " s (--timeout); the request was cancelled";
  CLARIBI_LOG(warn, "request " << id << " (" << method << ") timed out");
  reply_error(id, jsonrpc::code::request_timeout, msg.str());
  if (method != "initialize" && !m_era.upstream_modern()) {
    json::Document params(rapidjson::kObjectType);
    auto& a = params.GetAllocator();
    params.AddMember("requestId", json::Value(json::parse_or_null(upstream), a), a);
    params.AddMember("reason", "timed out in claribi-bridge", a);
    auto cancel =
        jsonrpc::parse(jsonrpc::notification("notifications/cancelled", json::to_string(params)));
    if (cancel) to_remote(std::move(*cancel));
  }
}

// ---- from the remote ------------------------------------------------------------------

void Bridge::on_remote_message(jsonrpc::Message&& m, const std::string& related) {
  // A trimmed answer (a large one: jsonrpc::parse_body) goes on as its text when it answers
  // one of the client's requests (the Remote made an initialize answer whole); what the
  // bridge reads of it before then is kept.
  if (m.trimmed && !m_table.has(m.id)) jsonrpc::make_whole(m);
  if (m_era.take_remote_message(m)) return;
  if (m.kind == jsonrpc::Kind::response) {
    on_answer(std::move(m));
    return;
  }
  if (m.kind == jsonrpc::Kind::request && m_era.client_modern()) {
    m_broker.suspend_call(std::move(m), related);  // a 2026-07-28 client takes no requests
    return;
  }
  if (m.method == "notifications/tools/list_changed") m_schemas.forget();
  if (m.method == "notifications/progress") on_progress(m);
  m_out.write_line(std::move(m.raw));
}

void Bridge::on_answer(jsonrpc::Message&& m) {
  if (m_broker.keep_final_answer(m.id, std::move(m.raw))) {
    return;  // the call ended while its client was answering questions: kept for the retry
  }
  if (auto client_id = m_table.take_alias(m.id)) {
    // The answer to a retry: the client knows the request by its own id.
    jsonrpc::make_whole(m);
    m.doc["id"].CopyFrom(json::parse_or_null(*client_id), m.doc.GetAllocator());
    m.id = *client_id;
    m.raw = json::to_string(m.doc);
  }
  auto* p = m_table.find(m.id);
  if (p == nullptr) {
    CLARIBI_LOG(warn, "the remote answered request "
                          << m.id
                          << ", which is no longer pending (timed out or cancelled); the answer "
                             "is not forwarded");
    return;
  }
  if (m_era.rounds_here()) {
    const auto* result = json::member(m.doc, "result");
    if (result != nullptr && era::is_input_required(*result)) {
      jsonrpc::make_whole(m);
      m_broker.start_round(m.id, *json::member(m.doc, "result"));
      return;
    }
    if (result != nullptr && era::is_task_handle(*result)) {
      forget(m.id);
      reply_error(m.id, jsonrpc::code::remote_failed,
                  "claribi-bridge: the remote answered with a task handle (Tasks extension, "
                  "resultType \"task\"), which the bridge does not translate for a 2025 client; "
                  "the remote should not create tasks for a client that did not declare the "
                  "extension");
      return;
    }
  }
  if (m_era.answers_for_modern_client()) era::mark_complete(m, p->method);
  m_tools.rewrite_response(p->method, m);
  if (!p->tool.empty()) {
    for (const auto& rule : m_options.capture) {
      if (rule.tool != p->tool) continue;
      jsonrpc::make_whole(m);
      if (auto minted = find_minted(rule, m.doc)) {
        capture_minted(std::move(m), *minted);
        return;
      }
    }
  }
  forget(m.id);
  m_out.write_line(std::move(m.raw));
}

void Bridge::on_progress(jsonrpc::Message& m) {
  const auto* token = param(m, "progressToken");
  if (token == nullptr) return;
  auto owner = m_table.progress_owner(jsonrpc::id_text(*token));
  auto* p = owner.empty() ? nullptr : m_table.find(owner);
  if (p == nullptr) return;
  m_table.arm(owner);
  if (p->uploaded == 0) return;
  // The bridge reported the upload in file bytes; the server counts from zero after it.
  // Keep the client's progress increasing.
  auto& params = m.doc["params"];
  for (const char* name : {"progress", "total"}) {
    auto v = params.FindMember(name);
    if (v != params.MemberEnd() && v->value.IsNumber()) {
      v->value.SetDouble(v->value.GetDouble() + static_cast<double>(p->uploaded));
    }
  }
  m.raw = json::to_string(m.doc);
}

void Bridge::capture_minted(jsonrpc::Message&& m, const Minted& minted) {
  m_auth.adopt_minted(minted);
  m_table.disarm(m.id);
  auto answer = std::make_shared<jsonrpc::Message>(std::move(m));
  auto deliver = [this, answer, minted](std::string_view key_note) {
    if (!m_table.has(answer->id)) return;  // the session ended meanwhile
    forget(answer->id);
    redact_minted(answer->doc, minted, key_note, k_token_note);
    m_out.write_line(json::to_string(answer->doc));
  };
  if (minted.api_key.empty()) {
    deliver(k_key_stored_note);
    return;
  }
  // The answer waits until the key is stored, so what it says is true.
  m_auth.store_minted_key(minted.api_key, [deliver](Result<void> stored) {
    if (stored) {
      CLARIBI_LOG(info, "stored the minted API key in the keychain");
      deliver(k_key_stored_note);
      return;
    }
    CLARIBI_LOG(error, "could not store the minted API key: " << stored.error().message);
    deliver("[API key withheld by claribi-bridge: storing it in the OS keychain failed (" +
            stored.error().message +
            "); it is used for this session only. Mint a new key later and store it with "
            "'claribi-bridge key set']");
  });
}

void Bridge::on_remote_failure(const std::string& id, transport::RequestFailure&& f) {
  if (m_era.take_failure(id, f)) return;
  if (m_broker.keep_final_answer(id, jsonrpc::error_response(id, f.code, f.message, f.data_json))) {
    return;  // the set-aside call failed while its client was answering: the retry gets it
  }
  const auto* p = m_table.find(id);
  if (p == nullptr) return;
  const bool tool_call = p->method == "tools/call";
  forget(id);
  if (tool_call && (f.http_status == 401 || f.http_status == 403)) {
    // A tool the remote serves only with credentials, and none could be had: a tool result,
    // so the model can tell the user what to do instead of the whole request failing.
    m_out.write_line(jsonrpc::tool_error_response(
        id, f.message +
                ". To use this tool, sign in first: create an account with the remote's signup "
                "tools if it has them (for clariBI: register_account, then verify_email, whose "
                "API key the bridge keeps), or store a key with 'claribi-bridge key set'."));
    return;
  }
  m_out.write_line(jsonrpc::error_response(id, f.code, f.message, f.data_json));
}

// ---- the end ------------------------------------------------------------------------

void Bridge::on_eof() {
  m_eof = true;
  CLARIBI_LOG(debug, "stdin closed; " << m_table.size() << " request(s) in flight");
  if (idle()) {
    shutdown();
    return;
  }
  m_grace.expires_after(std::chrono::milliseconds(k_eof_grace_ms));
  m_grace.async_wait([this](const std::error_code& ec) {
    if (!ec) shutdown();
  });
}

bool Bridge::idle() const {
  return m_table.only_listens() && m_era.idle() && m_schemas.idle();
}

void Bridge::maybe_finish_after_eof() {
  if (m_eof && idle() && !m_shutting_down) {
    asio::post(m_io, [this] { shutdown(); });
  }
}

void Bridge::shutdown() {
  if (m_shutting_down) return;
  m_shutting_down = true;
  m_grace.cancel();
  m_table.clear(
      [this](const std::string& id) { reply_error(id, jsonrpc::code::remote_failed, k_exiting); });
  auto unanswered = m_era.take_unanswered();
  for (const auto& m : m_schemas.take_held()) unanswered.push_back(m.id);
  for (const auto& id : unanswered) reply_error(id, jsonrpc::code::remote_failed, k_exiting);
  m_grace.expires_after(std::chrono::milliseconds(k_hard_deadline_ms));
  m_grace.async_wait([this](const std::error_code& ec) {
    if (!ec) finish();
  });
  m_auth.stop();
  m_era.stop();
  if (m_remote) {
    m_remote->shutdown(k_delete_budget_ms, [this] { finish(); });
  } else {
    finish();
  }
}

void Bridge::finish() {
  if (m_finished) return;
  m_finished = true;
  m_grace.cancel();
  if (m_on_finished) m_on_finished();
}

}  // namespace claribi::daemon
