#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "transport/http_transport.hpp"
#include "transport/outgoing.hpp"

namespace claribi::transport {

/// The remote refused a request for want of authorization: a 401, or a 403 whose
/// challenge says insufficient_scope.
struct AuthChallenge {
  long status = 0;
  std::string www_authenticate;
  std::string rejected_authorization;  ///< the Authorization value the request carried
};

/// One authorization round at a time: the request the remote refused for want of
/// credentials, and every message after it, wait for the login or refresh to end.
class AuthHold {
 public:
  /// `on_required` starts a round (empty: nobody handles authorization, nothing waits); it
  /// must outlive the hold.
  explicit AuthHold(const std::function<void(const AuthChallenge&)>& on_required)
      : m_on_required(on_required) {}

  /// A round is under way.
  bool active() const { return m_active; }

  /// The remote refused `o` with `head`: holds it, starting a round unless one is under way
  /// (true), or false when it may not wait (it already waited twice, it may not log in, a 403
  /// for another reason than scope, or nobody handles authorization).
  bool refused(const std::shared_ptr<Outgoing>& o, const HttpHead& head);

  /// Holds `o` until the round under way ends.
  void hold(std::shared_ptr<Outgoing> o) { m_waiting.push_back(std::move(o)); }

  /// Ends the round: what waited, in order.
  std::deque<std::shared_ptr<Outgoing>> end();

 private:
  const std::function<void(const AuthChallenge&)>& m_on_required;
  bool m_active = false;
  std::deque<std::shared_ptr<Outgoing>> m_waiting;
};

}  // namespace claribi::transport
