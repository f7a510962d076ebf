#include "daemon/request_table.hpp"

#include "util/platform.hpp"

#include <algorithm>

namespace claribi::daemon {

RequestTable::RequestTable(asio::io_context& io, long timeout_ms,
                           std::function<void(const std::string&)> on_timeout)
    : m_io(io), m_timeout_ms(timeout_ms), m_on_timeout(std::move(on_timeout)), m_trim_timer(io) {}

Pending* RequestTable::find(const std::string& id) {
  auto it = m_pending.find(id);
  return it == m_pending.end() ? nullptr : &it->second;
}

bool RequestTable::only_listens() const {
  return std::all_of(m_pending.begin(), m_pending.end(),
                     [](const auto& p) { return p.second.method == "subscriptions/listen"; });
}

Pending& RequestTable::add(const std::string& id, Pending p) {
  if (!p.progress_token.empty()) m_progress_owner[p.progress_token] = id;
  auto& slot = m_pending[id] = std::move(p);
  arm(id, slot);
  return slot;
}

void RequestTable::arm(const std::string& id) {
  if (auto* p = find(id)) arm(id, *p);
}

void RequestTable::arm(const std::string& id, Pending& p) {
  // A listen stream lasts as long as the client wants it; no answer is late.
  if (m_timeout_ms <= 0 || p.method == "subscriptions/listen") return;
  if (!p.timer) p.timer = std::make_unique<asio::steady_timer>(m_io);
  p.timer->expires_after(std::chrono::milliseconds(m_timeout_ms));
  p.timer->async_wait([this, id](const std::error_code& ec) {
    if (!ec && has(id)) m_on_timeout(id);
  });
}

void RequestTable::disarm(const std::string& id) {
  if (auto* p = find(id); p != nullptr && p->timer) p->timer->cancel();
}

std::optional<Pending> RequestTable::take(const std::string& id) {
  auto it = m_pending.find(id);
  if (it == m_pending.end()) return std::nullopt;
  Pending p = std::move(it->second);
  m_pending.erase(it);
  if (p.timer) p.timer->cancel();
  if (!p.progress_token.empty()) m_progress_owner.erase(p.progress_token);
  return p;
}

void RequestTable::forget(const std::string& id) {
  if (!take(id)) return;
  if (m_pending.empty()) {
    m_trim_timer.expires_after(std::chrono::seconds(1));
    m_trim_timer.async_wait([this](const std::error_code& ec) {
      if (!ec && m_pending.empty()) platform::release_free_memory();
    });
  }
}

std::string RequestTable::upstream_id_of(const std::string& client_id) const {
  auto it = m_pending.find(client_id);
  return it == m_pending.end() || it->second.upstream_id.empty() ? client_id
                                                                 : it->second.upstream_id;
}

void RequestTable::rename_upstream(const std::string& client_id, const std::string& upstream_id) {
  auto* p = find(client_id);
  if (p == nullptr) return;
  m_alias.erase(p->upstream_id);
  p->upstream_id = upstream_id;
  if (upstream_id != client_id) m_alias[upstream_id] = client_id;
}

std::optional<std::string> RequestTable::take_alias(const std::string& upstream_id) {
  auto it = m_alias.find(upstream_id);
  if (it == m_alias.end()) return std::nullopt;
  auto client_id = std::move(it->second);
  m_alias.erase(it);
  return client_id;
}

std::string RequestTable::client_of(const std::string& upstream_id) const {
  auto it = m_alias.find(upstream_id);
  return it == m_alias.end() ? upstream_id : it->second;
}

std::string RequestTable::progress_owner(const std::string& token) const {
  auto it = m_progress_owner.find(token);
  return it == m_progress_owner.end() ? std::string() : it->second;
}

void RequestTable::clear(const std::function<void(const std::string&)>& each) {
  m_trim_timer.cancel();
  for (auto& [id, p] : m_pending) {
    if (p.timer) p.timer->cancel();
    each(id);
  }
  m_pending.clear();
  m_progress_owner.clear();
  m_alias.clear();
}

}  // namespace claribi::daemon
