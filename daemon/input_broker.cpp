#include "daemon/input_broker.hpp"

#include "oauth/crypto.hpp"
#include "transport/modern.hpp"
#include "util/log.hpp"

namespace claribi::daemon {
namespace {

namespace modern = transport::modern;

/// Ids of the questions the bridge puts to the client (compact JSON, no closing quote).
constexpr const char* k_question_id_prefix = "\"claribi-bridge-input-";
/// Rounds of input_required one request may go through before the bridge gives up.
constexpr int k_max_rounds = 10;
/// How long a call to a 2025 server stays held for its 2026-07-28 client's answers.
constexpr std::chrono::minutes k_suspend_limit{10};

}  // namespace

std::string missing_capability(const json::Value& caps, std::string_view method,
                               const std::string& params) {
  if (method == "sampling/createMessage") {
    return json::member(caps, "sampling") ? "" : "sampling";
  }
  if (method == "roots/list") return json::member(caps, "roots") ? "" : "roots";
  if (method == "elicitation/create") {
    const auto* e = json::member(caps, "elicitation");
    if (e == nullptr) return "elicitation";
    auto p = json::parse_or_null(params);
    auto mode = json::string_or_empty(json::member(p, "mode"));
    // An empty elicitation capability means form mode (2025-11-25).
    if (mode == "url" && json::member(*e, "url") == nullptr) return "elicitation.url";
    if ((mode.empty() || mode == "form") && e->IsObject() && e->MemberCount() > 0 &&
        json::member(*e, "form") == nullptr) {
      return "elicitation.form";
    }
    return "";
  }
  return std::string(method);  // not an input request a client can answer
}

InputBroker::InputBroker(asio::io_context& io, Links& links, RequestTable& table,
                         std::function<std::string()> client_capabilities)
    : m_io(io),
      m_links(links),
      m_table(table),
      m_client_capabilities(std::move(client_capabilities)) {}

bool InputBroker::is_question_id(const std::string& id) {
  return id.rfind(k_question_id_prefix, 0) == 0;
}

std::string InputBroker::next_id(const char* prefix) {
  return prefix + std::to_string(++m_ids);
}

void InputBroker::start_round(const std::string& client_id, const json::Value& result) {
  auto* p = m_table.find(client_id);
  if (p == nullptr) return;
  if (++p->input_rounds > k_max_rounds) {
    fail_round(client_id, jsonrpc::code::remote_failed,
               "claribi-bridge: the remote asked for input " + std::to_string(k_max_rounds) +
                   " times for one request; giving up");
    return;
  }
  auto asked = era::parse_input_required(result);
  if (!asked) {
    fail_round(client_id, jsonrpc::code::remote_failed,
               "claribi-bridge: the remote's input_required result is malformed: " +
                   asked.error().message);
    return;
  }
  auto caps = json::parse_or_null(m_client_capabilities());
  for (const auto& r : asked->requests) {
    auto missing = missing_capability(caps, r.method, r.params);
    if (!missing.empty()) {
      fail_round(client_id, modern::k_missing_client_capability,
                 "claribi-bridge: the remote needs the client to answer " + r.method +
                     ", but the client did not declare the '" + missing + "' capability");
      return;
    }
  }
  m_table.disarm(client_id);  // a person may take a while to answer
  Round round;
  round.asked = std::move(*asked);
  std::vector<std::string> lines;
  for (const auto& r : round.asked.requests) {
    auto id = next_id(k_question_id_prefix) + "\"";
    round.outstanding[id] = r.key;
    m_question_of[id] = client_id;
    lines.push_back(jsonrpc::request(id, r.method, r.params));
  }
  CLARIBI_LOG(info, "request " << client_id << ": the remote asks for input (round "
                               << p->input_rounds << ", " << lines.size() << " question(s))");
  m_rounds[client_id] = std::move(round);
  for (auto& l : lines) m_links.to_client(std::move(l));
  if (lines.empty()) retry_with_answers(client_id);  // only state to carry back
}

void InputBroker::on_answer(const jsonrpc::Message& m) {
  auto owner = m_question_of.find(m.id);
  if (owner == m_question_of.end()) {
    CLARIBI_LOG(warn, "the client answered " << m.id << ", which the bridge no longer waits for");
    return;
  }
  auto client_id = owner->second;
  m_question_of.erase(owner);
  auto round = m_rounds.find(client_id);
  if (round == m_rounds.end()) return;
  auto key = round->second.outstanding[m.id];
  round->second.outstanding.erase(m.id);
  if (const auto* error = json::member(m.doc, "error")) {
    fail_round(client_id, jsonrpc::code::remote_failed,
               "claribi-bridge: the client answered the remote's question '" + key +
                   "' with an error: " + json::to_string(*error));
    return;
  }
  const auto* result = json::member(m.doc, "result");
  round->second.answers[key] = result ? json::to_string(*result) : "{}";
  if (round->second.outstanding.empty()) retry_with_answers(client_id);
}

void InputBroker::forget_round(const std::string& client_id) {
  auto r = m_rounds.find(client_id);
  if (r == m_rounds.end()) return;
  for (const auto& [qid, key] : r->second.outstanding) m_question_of.erase(qid);
  m_rounds.erase(r);
}

void InputBroker::retry_with_answers(const std::string& client_id) {
  auto round = m_rounds.find(client_id);
  auto* p = m_table.find(client_id);
  if (round == m_rounds.end() || p == nullptr) return;
  auto new_id = json::quote(next_id("claribi-bridge-retry-"));
  auto raw = era::retry_request(p->raw, new_id, round->second.answers, round->second.asked);
  // A path twin's file is sent again from disk: the kept text holds only its placeholder.
  std::shared_ptr<const transport::UploadBody> upload;
  if (const auto& sent = p->upload) {
    const auto& old = p->raw;
    auto placeholder =
        old.substr(sent->prefix.size(), old.size() - sent->prefix.size() - sent->suffix.size());
    auto at = raw.find(placeholder);
    if (at != std::string::npos) {
      auto body = std::make_shared<transport::UploadBody>(*sent);
      body->prefix = raw.substr(0, at);
      body->suffix = raw.substr(at + placeholder.size());
      upload = body;
    }
    p->upload = upload;
  }
  m_rounds.erase(round);
  m_table.rename_upstream(client_id, new_id);
  p->raw = raw;
  m_table.arm(client_id);
  auto retry = jsonrpc::parse(std::move(raw));
  if (!retry) {
    fail_round(client_id, jsonrpc::code::internal_error,
               "claribi-bridge: could not build the retry: " + retry.error().message);
    return;
  }
  m_links.to_remote(std::move(*retry), std::move(upload));
}

void InputBroker::fail_round(const std::string& client_id, int code, const std::string& message) {
  CLARIBI_LOG(warn, "request " << client_id << " failed: " << message);
  m_links.drop(client_id);
  m_links.reply_error(client_id, code, message);
}

void InputBroker::suspend_call(jsonrpc::Message&& r, const std::string& related) {
  auto refuse = [this, &r](int code, const std::string& why) {
    CLARIBI_LOG(warn, "the remote asked the client " << r.method << ": " << why);
    auto refusal = jsonrpc::parse(jsonrpc::error_response(r.id, code, "claribi-bridge: " + why));
    if (refusal) m_links.to_remote(std::move(*refusal));
  };
  if (r.method == "ping") {
    auto pong = jsonrpc::parse(jsonrpc::result_response(r.id, "{}"));
    if (pong) m_links.to_remote(std::move(*pong));
    return;
  }
  if (r.method != "elicitation/create" && r.method != "sampling/createMessage" &&
      r.method != "roots/list") {
    refuse(jsonrpc::code::method_not_found,
           r.method + " has no 2026-07-28 equivalent the client could answer");
    return;
  }
  // Which client request is this about? The one whose response stream carried it.
  std::string state;
  if (auto held = m_suspended_call.find(related); held != m_suspended_call.end()) {
    state = held->second;
  }
  const std::string client_id = m_table.client_of(related);
  if (state.empty()) {
    const auto* p = m_table.find(client_id);
    const bool multi_round =
        p != nullptr &&
        (p->method == "tools/call" || p->method == "prompts/get" || p->method == "resources/read");
    if (related.empty() || !multi_round) {
      refuse(jsonrpc::code::method_not_found,
             "the client speaks MCP " + std::string(modern::k_version) +
                 ", which takes questions only during tools/call, prompts/get or resources/read; "
                 "this one came outside any");
      return;
    }
  }
  const auto* params = json::member(r.doc, "params");
  auto caps = json::parse_or_null(m_client_capabilities());
  auto missing = missing_capability(caps, r.method, params ? json::to_string(*params) : "");
  if (!missing.empty()) {
    refuse(jsonrpc::code::method_not_found,
           "the client did not declare the '" + missing + "' capability " + r.method + " needs");
    return;
  }
  if (state.empty()) {
    // Unguessable, so a client cannot resume another's call by chance.
    auto token = oauth::random_token(12);
    state = next_id("claribi-bridge-state-") + "-" + (token ? *token : std::string("0"));
    auto& call = m_suspended[state];
    call.upstream_id = related;
    call.pending = std::move(*m_table.take(client_id));
    m_table.forget_alias(related);
    m_suspended_call[related] = state;
    m_waiting_retry[state] = client_id;
    // Nobody may answer for long: the server's questions are withdrawn after a while.
    call.timer = std::make_unique<asio::steady_timer>(m_io, k_suspend_limit);
    call.timer->async_wait([this, state](const std::error_code& ec) {
      if (!ec) end_suspended(state, "the client did not answer within 10 minutes");
    });
  }
  auto& call = m_suspended[state];
  const auto key = next_id("claribi-bridge-");
  CLARIBI_LOG(info, "the remote asks the client " << r.method << " during request " << related
                                                  << "; answered as input_required");
  call.asked.emplace(key, std::move(r));
  auto waiting = m_waiting_retry.find(state);
  if (waiting != m_waiting_retry.end()) {
    auto id = waiting->second;
    m_waiting_retry.erase(waiting);
    answer_suspended(state, id);
  }
}

void InputBroker::answer_suspended(const std::string& state, const std::string& client_id) {
  auto& call = m_suspended[state];
  json::Document result(rapidjson::kObjectType);
  auto& a = result.GetAllocator();
  json::Value requests(rapidjson::kObjectType);
  for (const auto& [key, r] : call.asked) {
    json::Value q(rapidjson::kObjectType);
    q.AddMember("method", json::Value(r.method.c_str(), a), a);
    if (const auto* params = json::member(r.doc, "params")) {
      q.AddMember("params", json::Value(*params, a), a);
    }
    requests.AddMember(json::Value(key.c_str(), a), q, a);
  }
  result.AddMember("resultType", "input_required", a);
  result.AddMember("inputRequests", requests, a);
  result.AddMember("requestState", json::Value(state.c_str(), a), a);
  m_links.to_client(jsonrpc::result_response(client_id, json::to_string(result)));
}

bool InputBroker::resume_call(jsonrpc::Message& retry) {
  const auto* params = json::member(retry.doc, "params");
  auto state =
      std::string(json::string_or_empty(params ? json::member(*params, "requestState") : nullptr));
  if (state.rfind("claribi-bridge-state-", 0) != 0) return false;
  auto it = m_suspended.find(state);
  if (it == m_suspended.end()) {
    m_links.reply_error(retry.id, jsonrpc::code::invalid_params,
                        "claribi-bridge: requestState names no call waiting for answers (it "
                        "ended, timed out, or was already resumed)");
    return true;
  }
  auto& call = it->second;
  const auto* responses = params ? json::member(*params, "inputResponses") : nullptr;
  if (responses != nullptr && responses->IsObject()) {
    for (const auto& answer : responses->GetObject()) {
      auto asked =
          call.asked.find(std::string(answer.name.GetString(), answer.name.GetStringLength()));
      if (asked == call.asked.end()) continue;
      auto reply =
          jsonrpc::parse(jsonrpc::result_response(asked->second.id, json::to_string(answer.value)));
      if (reply) m_links.to_remote(std::move(*reply));
      call.asked.erase(asked);
    }
  }
  if (!call.asked.empty()) {  // questions still open: ask them again
    answer_suspended(state, retry.id);
    return true;
  }
  // Every question answered: the call is the client's retry from now on.
  if (m_table.has(retry.id)) {
    m_links.reply_error(retry.id, jsonrpc::code::invalid_request,
                        "request id " + retry.id + " is already used by a request still in flight");
    return true;
  }
  auto upstream = call.upstream_id;
  auto final_answer = std::move(call.final_answer);
  auto pending = std::move(call.pending);
  if (call.timer) call.timer->cancel();
  m_suspended.erase(it);
  m_suspended_call.erase(upstream);
  m_waiting_retry.erase(state);
  m_table.add(retry.id, std::move(pending));
  m_table.rename_upstream(retry.id, upstream);
  if (!final_answer.empty()) {
    auto answer = jsonrpc::parse(std::move(final_answer));
    if (answer) m_links.from_remote(std::move(*answer), upstream);
  }
  return true;
}

bool InputBroker::keep_final_answer(const std::string& upstream_id, std::string&& raw) {
  auto held = m_suspended_call.find(upstream_id);
  if (held == m_suspended_call.end()) return false;
  m_suspended[held->second].final_answer = std::move(raw);
  return true;
}

void InputBroker::end_suspended(const std::string& state, const std::string& why) {
  auto it = m_suspended.find(state);
  if (it == m_suspended.end()) return;
  CLARIBI_LOG(warn, "request " << it->second.upstream_id << " abandoned: " << why);
  for (const auto& [key, r] : it->second.asked) {
    auto refusal = jsonrpc::parse(
        jsonrpc::error_response(r.id, jsonrpc::code::remote_failed, "claribi-bridge: " + why));
    if (refusal) m_links.to_remote(std::move(*refusal));
  }
  json::Document params(rapidjson::kObjectType);
  auto& a = params.GetAllocator();
  params.AddMember("requestId", json::Value(json::parse_or_null(it->second.upstream_id), a), a);
  params.AddMember("reason", json::Value(why.c_str(), a), a);
  auto cancel =
      jsonrpc::parse(jsonrpc::notification("notifications/cancelled", json::to_string(params)));
  if (cancel) m_links.to_remote(std::move(*cancel));
  m_suspended_call.erase(it->second.upstream_id);
  m_waiting_retry.erase(state);
  m_suspended.erase(it);
}

}  // namespace claribi::daemon
