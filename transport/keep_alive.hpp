#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "transport/outgoing.hpp"

namespace claribi::transport {

/// A ping of the bridge's own, `id` (compact JSON): internal, its answer kept from the
/// client, a refusal never starting a login, a failure only logged.
std::shared_ptr<Outgoing> make_ping(std::string id);

/// --ping-interval: once nothing has gone to the remote for the interval and it may be
/// pinged (a session is open and nothing is in flight), `ping` is called, so that proxies
/// and load balancers in between keep the session. Costs one timestamp per message sent;
/// the timer starts with the first one. Io thread only.
class KeepAlive {
 public:
  /// `interval_ms` 0: never pings.
  KeepAlive(asio::io_context& io, long interval_ms, std::function<bool()> may_ping,
            std::function<void()> ping);
  KeepAlive(const KeepAlive&) = delete;
  KeepAlive& operator=(const KeepAlive&) = delete;

  /// A message went to the remote: the quiet period starts again.
  void sent();
  /// No ping after this.
  void stop();

 private:
  void arm(std::chrono::steady_clock::duration after);
  void on_timer();

  asio::steady_timer m_timer;
  std::chrono::milliseconds m_interval;
  std::function<bool()> m_may_ping;
  std::function<void()> m_ping;
  std::chrono::steady_clock::time_point m_last_sent;
  bool m_armed = false;
  bool m_stopped = false;
};

}  // namespace claribi::transport
