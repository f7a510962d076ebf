// The era negotiator's use of the remembered era (era_cache.hpp): taken instead of the
// probe, confirmed by the first answer, or contradicted, then forgotten and asked again. MCP
// 2026-07-28, versioning: clients SHOULD cache the era per origin and MAY persist it across
// restarts, re-probing when it fails.

#include "daemon/era_negotiator.hpp"

#include "transport/discover.hpp"
#include "transport/modern.hpp"
#include "util/log.hpp"

namespace claribi::daemon {

namespace modern = transport::modern;

bool EraNegotiator::use_remembered(const jsonrpc::Message& m) {
  if (m_cache_read || m_pin != era::Pin::auto_detect || !m_cache.enabled()) return false;
  m_cache_read = true;  // once: a verdict forgotten or outlived is not taken up again
  const auto now = unix_now();
  auto v = m_cache.load(now);
  if (!v) return false;
  if (v->modern && (!client_modern() || m.method == "server/discover")) {
    // A 2025 client is answered from the server/discover result, and a client's own
    // server/discover from the probe: for them the probe is the one round trip anyway.
    return false;
  }
  m_upstream = v->modern ? Upstream::modern : Upstream::legacy;
  if (v->modern) m_peers.tools.set_header_params(true);
  m_revision = v->revision;
  m_remembered = true;
  CLARIBI_LOG(info, "the remote spoke "
                        << (v->modern ? "MCP " + std::string(modern::k_version)
                                      : "a 2025 revision" +
                                            (v->revision.empty() ? "" : " (" + v->revision + ")"))
                        << " " << (now - v->learnt_at) / 60
                        << " min ago (remembered); no server/discover unless it answers otherwise");
  return true;
}

void EraNegotiator::remember(bool modern_era, const std::string& revision) {
  m_revision = revision;
  m_cache.store({modern_era, revision, unix_now()});
}

void EraNegotiator::contradicted(const std::string& how) {
  CLARIBI_LOG(info, "the remote " << how
                                  << ", unlike the era remembered for it: asking it with "
                                     "server/discover, then sending again what it refused");
  m_cache.forget();
  m_remembered = false;
  m_revision.clear();
  m_peers.tools.set_header_params(false);
  discover_upstream(era::envelope(m_identity), /*may_log_in=*/true);
}

void EraNegotiator::confirmed_legacy(const json::Value& initialize_result) {
  m_remembered = false;
  m_unconfirmed.clear();
  auto revision = json::string_or_empty(json::member(initialize_result, "protocolVersion"));
  if (!revision.empty() && revision != m_revision && m_cache.enabled()) {
    remember(false, std::string(revision));
  }
}

bool EraNegotiator::check_remembered(jsonrpc::Message& m) {
  const auto* result = json::member(m.doc, "result");
  if (!m_watched_initialize.empty() && m.id == m_watched_initialize) {
    m_watched_initialize.clear();
    if (result != nullptr) {
      confirmed_legacy(*result);
      return false;
    }
  }
  auto it = m_unconfirmed.find(m.id);
  if (it == m_unconfirmed.end()) return false;
  auto raw = std::move(it->second);
  m_unconfirmed.erase(it);
  if (m_remembered && m_upstream == Upstream::legacy && result == nullptr &&
      transport::refuses_as_modern(m.doc)) {
    auto again = jsonrpc::parse(std::move(raw));
    if (again) {
      m_peers.table.forget(m.id);
      m_held.push_back(std::move(*again));
      contradicted("refused a 2025 initialize as a " + std::string(modern::k_version) +
                   " server does");
      return true;
    }
  }
  // Answered in the remembered era: it holds.
  m_remembered = false;
  m_unconfirmed.clear();
  return false;
}

}  // namespace claribi::daemon
