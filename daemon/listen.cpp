#include "daemon/listen.hpp"

#include <algorithm>
#include <chrono>

#include "transport/modern.hpp"
#include "util/jsonrpc.hpp"
#include "util/log.hpp"

namespace claribi::daemon {

namespace modern = transport::modern;

namespace {

constexpr long k_first_backoff_ms = 1000;
constexpr long k_max_backoff_ms = 30000;

bool is_true(const json::Value* v) {
  return v != nullptr && v->IsBool() && v->GetBool();
}

const json::Value* path(const json::Value* v, const char* a, const char* b) {
  if (v == nullptr || !v->IsObject()) return nullptr;
  const auto* first = json::member(*v, a);
  return first != nullptr && first->IsObject() ? json::member(*first, b) : nullptr;
}

/// The subscription id a notification or result carries in its `_meta`, or empty.
std::string subscription_of(const json::Value& message, const char* where) {
  const auto* holder = json::member(message, where);
  const auto* id = path(holder, "_meta", modern::k_meta_subscription_id);
  return id != nullptr ? jsonrpc::id_text(*id) : std::string();
}

/// Removes the subscription id from params._meta (and an emptied _meta) and returns the text.
std::string without_subscription(json::Document& doc) {
  auto params = doc.FindMember("params");
  if (params != doc.MemberEnd() && params->value.IsObject()) {
    auto meta = params->value.FindMember("_meta");
    if (meta != params->value.MemberEnd() && meta->value.IsObject()) {
      meta->value.RemoveMember(modern::k_meta_subscription_id);
      if (meta->value.ObjectEmpty()) params->value.RemoveMember("_meta");
    }
    if (params->value.ObjectEmpty()) doc.RemoveMember("params");
  }
  return json::to_string(doc);
}

}  // namespace

ListenFilter ListenFilter::parse(const json::Value* n) {
  ListenFilter f;
  if (n == nullptr || !n->IsObject()) return f;
  f.tools = is_true(json::member(*n, "toolsListChanged"));
  f.prompts = is_true(json::member(*n, "promptsListChanged"));
  f.resources = is_true(json::member(*n, "resourcesListChanged"));
  if (const auto* uris = json::member(*n, "resourceSubscriptions"); uris && uris->IsArray()) {
    for (const auto& u : uris->GetArray()) {
      if (u.IsString()) f.uris.emplace(u.GetString(), u.GetStringLength());
    }
  }
  return f;
}

ListenFilter ListenFilter::honored_by(const json::Value* caps) const {
  ListenFilter h;
  h.tools = tools && is_true(path(caps, "tools", "listChanged"));
  h.prompts = prompts && is_true(path(caps, "prompts", "listChanged"));
  h.resources = resources && is_true(path(caps, "resources", "listChanged"));
  if (is_true(path(caps, "resources", "subscribe"))) h.uris = uris;
  return h;
}

std::string ListenFilter::to_json() const {
  std::string out = "{";
  auto add = [&out](const std::string& member) {
    if (out.size() > 1) out += ',';
    out += member;
  };
  if (tools) add("\"toolsListChanged\":true");
  if (prompts) add("\"promptsListChanged\":true");
  if (resources) add("\"resourcesListChanged\":true");
  if (!uris.empty()) {
    std::string list;
    for (const auto& u : uris) list += (list.empty() ? "" : ",") + json::quote(u);
    add("\"resourceSubscriptions\":[" + list + "]");
  }
  return out + "}";
}

bool ListenFilter::accepts(std::string_view method, std::string_view uri) const {
  if (method == "notifications/tools/list_changed") return tools;
  if (method == "notifications/prompts/list_changed") return prompts;
  if (method == "notifications/resources/list_changed") return resources;
  if (method == "notifications/resources/updated") return uris.count(std::string(uri)) != 0;
  return false;
}

bool is_change_notification(std::string_view method) {
  return method == "notifications/tools/list_changed" ||
         method == "notifications/prompts/list_changed" ||
         method == "notifications/resources/list_changed" ||
         method == "notifications/resources/updated";
}

// ------------------------------------------------------------------ UpstreamListen

UpstreamListen::UpstreamListen(asio::io_context& io, Hooks hooks)
    : m_io(io), m_hooks(std::move(hooks)), m_timer(io) {}

void UpstreamListen::start(const json::Value* capabilities) {
  if (m_started) return;
  m_started = true;
  // A 2025 client takes every list change the server announces.
  m_wanted.tools = is_true(path(capabilities, "tools", "listChanged"));
  m_wanted.prompts = is_true(path(capabilities, "prompts", "listChanged"));
  m_wanted.resources = is_true(path(capabilities, "resources", "listChanged"));
  if (!m_wanted.empty()) open_stream();
}

void UpstreamListen::change(const std::string& uri, bool subscribe,
                            std::function<void(Result<void>)> done) {
  if (m_stopped) {
    done(fail("claribi-bridge is exiting"));
    return;
  }
  bool changed = subscribe ? m_wanted.uris.insert(uri).second : m_wanted.uris.erase(uri) != 0;
  if (!changed) {  // already so: answer as the stream for this filter does
    auto current = m_streams.find(m_current);
    if (current == m_streams.end() && !m_refused.empty()) {
      done(fail("claribi-bridge: subscriptions/listen " + m_refused));
    } else if (current == m_streams.end() || current->second.acked) {
      done(Result<void>());
    } else {
      m_waiters.push_back(Waiter{current->second.generation, uri, subscribe, std::move(done)});
    }
    return;
  }
  m_refused.clear();  // a new filter is worth asking again
  m_timer.cancel();
  m_failures = 0;
  open_stream();
  m_waiters.push_back(Waiter{m_generation, uri, subscribe, std::move(done)});
}

void UpstreamListen::open_stream() {
  if (m_stopped) return;
  if (m_wanted.empty()) {
    // Nothing left to listen for: close what is open, and the change is done.
    for (const auto& [id, s] : m_streams) m_hooks.close(id);
    m_streams.clear();
    m_current.clear();
    ++m_generation;
    settle(m_generation, &m_wanted, {});
    return;
  }
  ++m_generation;
  m_current = json::quote("claribi-bridge-listen-" + std::to_string(++m_counter));
  m_streams[m_current] = Stream{m_generation, false};
  CLARIBI_LOG(debug, "subscriptions/listen " << m_current << " for " << m_wanted.to_json());
  m_hooks.open(m_current, m_wanted.to_json());
}

bool UpstreamListen::on_remote_message(jsonrpc::Message& m) {
  if (m.kind == jsonrpc::Kind::response) {
    if (m_streams.count(m.id) == 0) return false;
    const auto* error = json::member(m.doc, "error");
    on_end(m.id,
           error ? "the remote refused it: " + json::to_string(*error) : "ended by the remote",
           error != nullptr);
    return true;
  }
  if (m.kind != jsonrpc::Kind::notification) return false;
  auto id = subscription_of(m.doc, "params");
  if (id.empty() || m_streams.count(id) == 0) {
    if (!id.empty()) {
      CLARIBI_LOG(debug, "dropped " << m.method << " of closed subscription " << id);
      return true;
    }
    return false;
  }
  if (m.method == "notifications/subscriptions/acknowledged") {
    on_ack(id, json::member(m.doc, "params"));
    return true;
  }
  // Until the newest stream is acknowledged, the one before it still speaks for the client;
  // after, only the newest does, so a change is never delivered twice.
  const bool current = id == m_current;
  auto newest = m_streams.find(m_current);
  const bool covering = !current && (newest == m_streams.end() || !newest->second.acked);
  if (!current && !covering) return true;
  m_hooks.to_client(without_subscription(m.doc));
  return true;
}

void UpstreamListen::on_ack(const std::string& id, const json::Value* params) {
  auto& s = m_streams[id];
  s.acked = true;
  auto honored = ListenFilter::parse(params ? json::member(*params, "notifications") : nullptr);
  if (id != m_current) return;
  m_failures = 0;
  for (auto it = m_streams.begin(); it != m_streams.end();) {
    if (it->first != m_current) {
      m_hooks.close(it->first);
      it = m_streams.erase(it);
    } else {
      ++it;
    }
  }
  settle(s.generation, &honored, {});
}

bool UpstreamListen::on_failure(const std::string& id, const std::string& why) {
  if (m_streams.count(id) == 0) return false;
  on_end(id, why, false);
  return true;
}

void UpstreamListen::on_end(const std::string& id, const std::string& why, bool refused) {
  auto it = m_streams.find(id);
  const bool acked = it->second.acked;
  const int generation = it->second.generation;
  m_streams.erase(it);
  if (id != m_current || m_stopped) return;
  m_current.clear();
  if (refused) {
    CLARIBI_LOG(warn, "subscriptions/listen: " << why
                                               << "; list changes and resource updates will not "
                                                  "reach the client");
    m_refused = why;
    settle(generation, nullptr, "claribi-bridge: subscriptions/listen " + why);
    return;
  }
  if (!acked) settle(generation, nullptr, "claribi-bridge: subscriptions/listen " + why);
  CLARIBI_LOG(info, "subscriptions/listen stream " << why << "; reopening");
  reopen_later();
}

void UpstreamListen::reopen_later() {
  long delay = std::min(k_max_backoff_ms, k_first_backoff_ms << std::min(m_failures, 5));
  ++m_failures;
  m_timer.expires_after(std::chrono::milliseconds(delay));
  m_timer.async_wait([this](const std::error_code& ec) {
    if (ec || m_stopped || !m_current.empty() || !m_refused.empty()) return;
    open_stream();
  });
}

void UpstreamListen::settle(int generation, const ListenFilter* honored, const std::string& error) {
  std::vector<Waiter> now;
  auto keep = std::partition(m_waiters.begin(), m_waiters.end(),
                             [generation](const Waiter& w) { return w.generation > generation; });
  std::move(keep, m_waiters.end(), std::back_inserter(now));
  m_waiters.erase(keep, m_waiters.end());
  for (auto& w : now) {
    if (!error.empty()) {
      w.done(fail(error));
    } else if (w.subscribe && honored != nullptr && honored->uris.count(w.uri) == 0) {
      w.done(fail("claribi-bridge: the remote did not accept a subscription to " + w.uri +
                  " (it may not offer resource subscriptions)"));
    } else {
      w.done(Result<void>());
    }
  }
}

void UpstreamListen::stop() {
  m_stopped = true;
  m_timer.cancel();
  for (const auto& [id, s] : m_streams) m_hooks.close(id);
  m_streams.clear();
  auto waiters = std::move(m_waiters);
  m_waiters.clear();
  for (auto& w : waiters) w.done(fail("claribi-bridge is exiting"));
}

// ------------------------------------------------------------------ LocalListen

void LocalListen::set_capabilities(const json::Value* capabilities) {
  m_capabilities = capabilities ? json::to_string(*capabilities) : "{}";
}

void LocalListen::listen(const jsonrpc::Message& request) {
  const auto* params = json::member(request.doc, "params");
  const auto* notifications = params ? json::member(*params, "notifications") : nullptr;
  if (notifications == nullptr || !notifications->IsObject()) {
    m_hooks.to_client(jsonrpc::error_response(
        request.id, jsonrpc::code::invalid_params,
        "Invalid params: 'notifications' is required and must be a subscription filter"));
    return;
  }
  auto caps = json::parse_or_null(m_capabilities);
  auto& sub = m_subs[request.id];
  sub.honored = ListenFilter::parse(notifications).honored_by(&caps);
  std::set<std::string> fresh;
  for (const auto& uri : sub.honored.uris) {
    if (m_uri_users[uri]++ == 0) fresh.insert(uri);
  }
  sub.waiting = static_cast<int>(fresh.size());
  if (fresh.empty()) {
    ack(request.id);
    return;
  }
  for (const auto& uri : fresh) {
    m_hooks.to_remote("resources/subscribe", uri, [this, id = request.id, uri](Result<void> r) {
      auto it = m_subs.find(id);
      if (it == m_subs.end()) return;
      if (!r) {
        CLARIBI_LOG(warn, "resources/subscribe " << uri << " failed: " << r.error().message);
        it->second.honored.uris.erase(uri);
        if (--m_uri_users[uri] == 0) m_uri_users.erase(uri);
      }
      if (--it->second.waiting == 0) ack(id);
    });
  }
}

void LocalListen::ack(const std::string& id) {
  auto it = m_subs.find(id);
  if (it == m_subs.end() || it->second.acked) return;
  it->second.acked = true;
  const auto meta =
      std::string("\"_meta\":{\"") + modern::k_meta_subscription_id + "\":" + id + "}";
  m_hooks.to_client(jsonrpc::notification(
      "notifications/subscriptions/acknowledged",
      "{\"notifications\":" + it->second.honored.to_json() + "," + meta + "}"));
  if (it->second.honored.empty()) {
    // Nothing can ever arrive: end the subscription as a server would, gracefully.
    m_hooks.to_client(jsonrpc::result_response(id, "{\"resultType\":\"complete\"," + meta + "}"));
    m_subs.erase(it);
  }
}

bool LocalListen::cancel(const std::string& id) {
  auto it = m_subs.find(id);
  if (it == m_subs.end()) return false;
  auto uris = it->second.honored.uris;
  m_subs.erase(it);
  release(uris);
  return true;
}

void LocalListen::release(const std::set<std::string>& uris) {
  for (const auto& uri : uris) {
    auto u = m_uri_users.find(uri);
    if (u == m_uri_users.end() || --u->second > 0) continue;
    m_uri_users.erase(u);
    m_hooks.to_remote("resources/unsubscribe", uri, [uri](Result<void> r) {
      if (!r) CLARIBI_LOG(debug, "resources/unsubscribe " << uri << ": " << r.error().message);
    });
  }
}

bool LocalListen::on_remote_notification(const jsonrpc::Message& m) {
  if (!is_change_notification(m.method)) return false;
  const auto* params = json::member(m.doc, "params");
  auto uri = json::string_or_empty(params ? json::member(*params, "uri") : nullptr);
  int delivered = 0;
  for (const auto& [id, sub] : m_subs) {
    if (!sub.acked || !sub.honored.accepts(m.method, uri)) continue;
    json::Document copy;
    copy.CopyFrom(m.doc, copy.GetAllocator());
    auto& a = copy.GetAllocator();
    if (!copy.HasMember("params") || !copy["params"].IsObject()) {
      copy.RemoveMember("params");
      copy.AddMember("params", json::Value(rapidjson::kObjectType), a);
    }
    auto& p = copy["params"];
    if (!p.HasMember("_meta") || !p["_meta"].IsObject()) {
      p.RemoveMember("_meta");
      p.AddMember("_meta", json::Value(rapidjson::kObjectType), a);
    }
    auto sid = json::parse_or_null(id);
    p["_meta"].RemoveMember(modern::k_meta_subscription_id);
    p["_meta"].AddMember(json::Value(modern::k_meta_subscription_id, a), json::Value(sid, a), a);
    m_hooks.to_client(json::to_string(copy));
    ++delivered;
  }
  if (delivered == 0) CLARIBI_LOG(debug, m.method << ": no subscription asked for it; dropped");
  return true;
}

}  // namespace claribi::daemon
