#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "transport/outgoing.hpp"
#include "util/json.hpp"
#include "util/jsonrpc.hpp"
#include "util/result.hpp"

namespace claribi::transport {

/// What one answer to the bridge's `server/discover` says of the remote's era, by the
/// 2026-07-28 backward-compatibility rules.
struct DiscoverVerdict {
  enum class Kind {
    modern,  ///< the result lists 2026-07-28: stateless from now on
    /// a 2025 server: a 4xx, an error answer, a result without 2026-07-28; never an error
    /// only a modern server gives (HeaderMismatch, UnsupportedProtocolVersion but one
    /// listing 2025 revisions alone)
    legacy,
    assumed_legacy,  ///< refused for want of credentials (401/403): 2025 until there are some
    /// the first probe refused as HeaderMismatch, or as an unsupported version listing
    /// 2026-07-28 or none: a modern server; sent again, its headers from its body
    ask_again,
    /// a modern server the bridge cannot talk to: it speaks only stateless revisions this
    /// bridge does not, or refused the probe twice as above
    unsupported,
    server_failed,  ///< a 5xx: an outage, not an answer
  };
  Kind kind = Kind::legacy;
  /// Why, in a sentence: the log line, or for `unsupported` the error to report. Empty for
  /// `server_failed`, whose error names the URL.
  std::string note;
};

/// The verdict on one answer to probe number `attempt` (0 for the first): `status` is the
/// HTTP status (a 2xx when the answer came as a JSON-RPC response; never 0, as no answer is
/// no verdict) and `response` the JSON-RPC response to the probe found in the body, or null
/// when the body held none. No I/O.
DiscoverVerdict discover_verdict(long status, const json::Value* response, int attempt);

/// Whether a JSON-RPC response refuses a 2025 request the way only a 2026-07-28 server
/// does: HeaderMismatch, or an unsupported version listing a stateless revision. A 2025
/// initialize refused so was sent to a modern-only server.
bool refuses_as_modern(const json::Value& response);
/// The same of an HTTP body (one JSON-RPC response), cheap when it cannot be one.
bool body_refuses_as_modern(std::string_view body);

/// The outcome of `Remote::discover`.
struct Discovery {
  bool modern = false;
  jsonrpc::Message answer;  ///< the server/discover response, when modern
  /// The remote refused the probe for want of credentials (401/403): 2025 is only assumed,
  /// to be learnt again once there are credentials.
  bool assumed = false;
};

/// What the era probe asks of the side that sends messages (the Remote).
class ProbeLink {
 public:
  virtual void post(std::shared_ptr<Outgoing> o) = 0;
  /// A new id for the bridge's own request, "claribi-bridge-<purpose>-N" (text, unquoted).
  virtual std::string internal_id(std::string_view purpose) = 0;

 protected:
  ~ProbeLink() = default;
};

/// Learns the remote's era with the bridge's own `server/discover` (its `_meta` given as
/// compact JSON), posted through `link`, and once more when the verdict says so. Errors are
/// outages (5xx, network) and a remote speaking only stateless revisions the bridge does
/// not; `url` names the remote in them. `during_auth`: sent even while an authorization
/// round holds every other message.
void probe_era(ProbeLink& link, std::string url, std::string meta_json, bool during_auth,
               std::function<void(Result<Discovery>)> done, int attempt = 0);

}  // namespace claribi::transport
