#pragma once

// DPoP on the MCP side (RFC 9449 7 and 9): every request that carries a DPoP-bound token
// gets a fresh proof, whatever sends it (the POSTs, the GET stream, DELETE, the HTTP+SSE
// channel), so none of them needs to know about DPoP.

#include <memory>
#include <unordered_map>

#include "oauth/dpop.hpp"
#include "transport/http_transport.hpp"

namespace claribi::daemon {

/// An HttpTransport in front of another: a request whose Authorization uses the DPoP scheme
/// leaves with a DPoP header holding a new proof for its method and URL, bound to the token
/// (ath) and carrying the origin's last nonce. Every DPoP-Nonce the remote sends is kept; a
/// 401 use_dpop_nonce answer is not passed on but sent again once with the new nonce.
class DpopTransport final : public transport::HttpTransport {
 public:
  DpopTransport(std::unique_ptr<transport::HttpTransport> inner,
                std::shared_ptr<oauth::DpopSession> dpop);
  ~DpopTransport() override;

  TransferId start(transport::HttpRequest request, transport::HttpHandlers handlers) override;
  void cancel(TransferId id) override;
  void hold_events(bool hold) override { m_inner->hold_events(hold); }

 private:
  struct Transfer;
  /// Adds a proof to `t`'s request and starts it on the inner transport.
  void launch(const std::shared_ptr<Transfer>& t);

  std::unique_ptr<transport::HttpTransport> m_inner;
  std::shared_ptr<oauth::DpopSession> m_dpop;
  std::unordered_map<TransferId, std::shared_ptr<Transfer>> m_transfers;
  TransferId m_next = 1;
};

}  // namespace claribi::daemon
