#include "transport/unconfirmed.hpp"

#include "util/log.hpp"

#include <asio/post.hpp>

#include <algorithm>
#include <chrono>

namespace claribi::transport {

void Unconfirmed::ended() {
  if (--m_count > 0 || !m_end) return;
  m_timer.cancel();
  auto next = std::move(m_end);
  m_end = nullptr;
  asio::post(m_io, std::move(next));
}

void Unconfirmed::then(long budget_ms, std::function<void(long)> end) {
  if (m_count == 0) {
    end(budget_ms);
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  m_end = [budget_ms, started, end = std::move(end)] {
    auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count();
    end(std::max<long>(budget_ms - static_cast<long>(spent), budget_ms / 4));
  };
  m_timer.expires_after(std::chrono::milliseconds(budget_ms / 2));
  m_timer.async_wait([this](const std::error_code& ec) {
    if (ec || !m_end) return;
    CLARIBI_LOG(debug, m_count << " message(s) to the remote still unconfirmed at exit");
    auto next = std::move(m_end);
    m_end = nullptr;
    next();
  });
}

}  // namespace claribi::transport
