#include "daemon/dpop_transport.hpp"

#include "util/log.hpp"
#include "util/text.hpp"

namespace claribi::daemon {
namespace {

using transport::HttpHead;

/// Ids of the transfers this layer keeps apart from the inner transport's own.
constexpr transport::HttpTransport::TransferId k_own = std::uint64_t{1} << 63;

/// The token of an "Authorization: DPoP <token>" header line, or empty.
std::string dpop_token(const std::vector<std::string>& headers) {
  constexpr std::string_view prefix = "authorization: dpop ";
  for (const auto& h : headers) {
    if (h.size() > prefix.size() && text::lower(h.substr(0, prefix.size())) == prefix) {
      return std::string(text::trim(std::string_view(h).substr(prefix.size())));
    }
  }
  return {};
}

/// A 401 that only asks for a nonce (RFC 9449 9).
bool wants_nonce(const HttpHead& head) {
  return head.status == 401 && !head.header("DPoP-Nonce").empty() &&
         text::lower(head.header("WWW-Authenticate")).find("use_dpop_nonce") != std::string::npos;
}

}  // namespace

struct DpopTransport::Transfer {
  TransferId id = 0;
  transport::HttpRequest request;  ///< without a proof: each attempt gets its own
  transport::HttpHandlers handlers;
  std::string token;
  TransferId inner = 0;
  bool resent = false;         ///< the one resend with a nonce happened
  bool nonce_refused = false;  ///< this attempt ended in use_dpop_nonce: swallow the rest
};

DpopTransport::DpopTransport(std::unique_ptr<transport::HttpTransport> inner,
                             std::shared_ptr<oauth::DpopSession> dpop)
    : m_inner(std::move(inner)), m_dpop(std::move(dpop)) {}

DpopTransport::~DpopTransport() = default;

transport::HttpTransport::TransferId DpopTransport::start(transport::HttpRequest request,
                                                          transport::HttpHandlers handlers) {
  auto token = dpop_token(request.headers);
  if (token.empty()) return m_inner->start(std::move(request), std::move(handlers));
  auto t = std::make_shared<Transfer>();
  t->id = k_own | m_next++;
  t->request = std::move(request);
  t->handlers = std::move(handlers);
  t->token = std::move(token);
  m_transfers.emplace(t->id, t);
  launch(t);
  return t->id;
}

void DpopTransport::launch(const std::shared_ptr<Transfer>& t) {
  auto req = t->request;
  if (auto proof = m_dpop->proof(req.method, req.url, t->token)) {
    req.headers.push_back("DPoP: " + *proof);
  } else {
    // The server refuses it, and the refusal starts a new login, which loads a key.
    CLARIBI_LOG(warn, "sending a request without its DPoP proof: " << proof.error().message);
  }
  std::weak_ptr<Transfer> weak = t;
  transport::HttpHandlers h;
  h.on_head = [this, weak](const HttpHead& head) {
    auto x = weak.lock();
    if (!x) return;
    m_dpop->remember_nonce(x->request.url, head.header("DPoP-Nonce"));
    if (!x->resent && wants_nonce(head)) {
      x->nonce_refused = true;
      return;
    }
    if (x->handlers.on_head) x->handlers.on_head(head);
  };
  h.on_event = [weak](transport::SseEvent&& e) {
    auto x = weak.lock();
    if (x && !x->nonce_refused && x->handlers.on_event) x->handlers.on_event(std::move(e));
  };
  h.on_retry = [weak](long ms) {
    auto x = weak.lock();
    if (x && !x->nonce_refused && x->handlers.on_retry) x->handlers.on_retry(ms);
  };
  h.on_upload_progress = [weak](std::uint64_t sent, std::uint64_t size) {
    auto x = weak.lock();
    if (x && !x->nonce_refused && x->handlers.on_upload_progress) {
      x->handlers.on_upload_progress(sent, size);
    }
  };
  h.on_done = [this, weak](transport::HttpDone&& d) {
    auto x = weak.lock();
    if (!x) return;
    if (x->nonce_refused) {
      CLARIBI_LOG(debug, "the server wants a DPoP nonce; sending the request again with it");
      x->nonce_refused = false;
      x->resent = true;
      launch(x);
      return;
    }
    m_transfers.erase(x->id);
    if (x->handlers.on_done) x->handlers.on_done(std::move(d));
  };
  t->inner = m_inner->start(std::move(req), std::move(h));
}

void DpopTransport::cancel(TransferId id) {
  if ((id & k_own) == 0) return m_inner->cancel(id);
  auto it = m_transfers.find(id);
  if (it == m_transfers.end()) return;
  m_inner->cancel(it->second->inner);
  m_transfers.erase(it);
}

}  // namespace claribi::daemon
