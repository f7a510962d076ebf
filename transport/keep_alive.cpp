#include "transport/keep_alive.hpp"

#include "util/log.hpp"

namespace claribi::transport {

std::shared_ptr<Outgoing> make_ping(std::string id) {
  auto o = std::make_shared<Outgoing>();
  o->kind = jsonrpc::Kind::request;
  o->method = "ping";
  o->raw = jsonrpc::request(id, "ping");
  o->id = std::move(id);
  o->internal = true;
  o->may_log_in = false;  // logins start from the client's requests, never from a ping
  o->on_answer = [](Result<jsonrpc::Message> answer) {
    if (!answer) CLARIBI_LOG(info, "keep-alive ping failed: " << answer.error().message);
  };
  return o;
}

KeepAlive::KeepAlive(asio::io_context& io, long interval_ms, std::function<bool()> may_ping,
                     std::function<void()> ping)
    : m_timer(io),
      m_interval(interval_ms),
      m_may_ping(std::move(may_ping)),
      m_ping(std::move(ping)) {}

void KeepAlive::sent() {
  if (m_interval.count() <= 0 || m_stopped) return;
  m_last_sent = std::chrono::steady_clock::now();
  if (!m_armed) arm(m_interval);  // a busy session costs no timer work per message
}

void KeepAlive::stop() {
  m_stopped = true;
  m_timer.cancel();
}

void KeepAlive::arm(std::chrono::steady_clock::duration after) {
  m_armed = true;
  m_timer.expires_after(after);
  m_timer.async_wait([this](const std::error_code& ec) {
    if (ec) return;
    m_armed = false;
    on_timer();
  });
}

void KeepAlive::on_timer() {
  if (m_stopped) return;
  auto quiet = std::chrono::steady_clock::now() - m_last_sent;
  if (quiet < m_interval) {
    arm(m_interval - quiet);
    return;
  }
  if (!m_may_ping()) {
    arm(m_interval);  // busy, or no session yet: look again later
    return;
  }
  m_ping();  // its own sent() arms the next round
  if (!m_armed) arm(m_interval);
}

}  // namespace claribi::transport
