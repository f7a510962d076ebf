#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <functional>

namespace claribi::transport {

/// Notifications and responses posted to the remote and not yet acknowledged (a
/// cancellation, the client's last answer). At exit they get half the budget to arrive
/// before the session is deleted under them.
class Unconfirmed {
 public:
  explicit Unconfirmed(asio::io_context& io) : m_io(io), m_timer(io) {}

  void sent() { ++m_count; }
  /// One transfer ended (acknowledged or not).
  void ended();

  /// Calls `end` with what is left of `budget_ms` (a quarter of it at least) once nothing is
  /// unconfirmed, or half the budget is spent; at once when nothing is.
  void then(long budget_ms, std::function<void(long budget_left_ms)> end);

 private:
  asio::io_context& m_io;
  int m_count = 0;
  std::function<void()> m_end;  ///< set by `then` while messages are unconfirmed
  asio::steady_timer m_timer;
};

}  // namespace claribi::transport
