#include "transport/auth_hold.hpp"

#include "util/log.hpp"
#include "util/text.hpp"

namespace claribi::transport {

bool AuthHold::refused(const std::shared_ptr<Outgoing>& o, const HttpHead& head) {
  if (!m_on_required || !o->may_log_in || o->auth_rounds >= 2) return false;
  auto challenge = head.header("www-authenticate");
  if (head.status == 403 &&
      text::lower(challenge).find("insufficient_scope") == std::string::npos) {
    return false;  // forbidden for another reason: new credentials would not help
  }
  ++o->auth_rounds;
  o->transfer = 0;
  m_waiting.push_back(o);
  if (m_active) return true;
  m_active = true;
  CLARIBI_LOG(info, "the remote asks for authorization (HTTP "
                        << head.status << ") on "
                        << (o->method.empty() ? "a response" : o->method));
  m_on_required(AuthChallenge{head.status, challenge,
                              o->sent_authorization ? *o->sent_authorization : std::string()});
  return true;
}

std::deque<std::shared_ptr<Outgoing>> AuthHold::end() {
  m_active = false;
  auto waiting = std::move(m_waiting);
  m_waiting.clear();
  return waiting;
}

}  // namespace claribi::transport
