// What the Remote does with a remote that speaks only the HTTP+SSE transport (2024-11-05):
// the switch to it after a refused streamable initialize, and POSTs to the endpoint its
// stream named, whose answers come back on that stream.

#include "transport/remote.hpp"

#include "util/log.hpp"

namespace claribi::transport {

void Remote::switch_to_legacy(std::shared_ptr<Outgoing> initialize) {
  CLARIBI_LOG(info,
              "the remote refused a streamable HTTP initialize; trying the HTTP+SSE transport "
              "(2024-11-05)");
  m_mode = Mode::legacy;
  initialize->answered = false;
  m_session.hold(std::move(initialize));
  m_legacy.open();
}

void Remote::post_legacy(std::shared_ptr<Outgoing> o) {
  if (m_legacy.endpoint().empty()) {
    m_session.hold(std::move(o));
    return;
  }
  auto req = make_post(m_legacy.endpoint(), *o);
  o->sent_with_session = true;
  auto head = std::make_shared<HttpHead>();
  HttpHandlers h;
  h.on_head = [head](const HttpHead& got) { *head = got; };
  h.on_upload_progress = o->on_upload_progress;
  if (o->kind != jsonrpc::Kind::request) m_unconfirmed.sent();
  h.on_done = [this, o, head](HttpDone&& done) {
    if (o->kind != jsonrpc::Kind::request) m_unconfirmed.ended();
    finish_legacy_post(o, *head, std::move(done));
  };
  o->transfer = m_http.start(std::move(req), std::move(h));
}

void Remote::finish_legacy_post(const std::shared_ptr<Outgoing>& o, const HttpHead& head,
                                HttpDone&& done) {
  if (m_closing) return;
  if (!done.ok && head.status == 0 && retry_unanswered(o, done)) return;
  if (!done.ok && head.status == 0) {
    fail(o, "cannot reach " + display_url(m_options.url) + ": " + done.error, 0);
    return;
  }
  if (head.status == 404) {
    m_session.lost(o);
    return;
  }
  if ((head.status == 401 || head.status == 403) && m_auth.refused(o, head)) return;
  if (head.status / 100 != 2) {
    fail(o, "HTTP " + std::to_string(head.status) + " from the remote's SSE message endpoint",
         head.status, done.body);
    return;
  }
  if (o->kind != jsonrpc::Kind::request && o->on_accepted) o->on_accepted();
  if (head.content_type == "application/json" && !done.body.empty()) {
    deliver_text(std::move(done.body), nullptr, nullptr);
  }
}

}  // namespace claribi::transport
