#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "util/headers.hpp"
#include "util/tls_trust.hpp"
#include "util/url.hpp"

namespace claribi::transport {

enum class TransportKind { auto_detect, streamable_http, sse };

struct RemoteOptions {
  Url url;
  std::vector<Header> headers;  ///< sent on every request (credentials included)
  TransportKind transport = TransportKind::auto_detect;
  std::size_t max_message_bytes = std::size_t{64} << 20;
  std::shared_ptr<const tls::Trust> trust;  ///< --ca-file and the platform's CAs
  bool allow_http = false;
  long connect_timeout_ms = 10000;
  /// --ping-interval: a ping of the bridge's own after this long without sending anything
  /// while nothing is in flight; 0: never.
  long ping_interval_ms = 0;
  /// Cookies the remote sets are sent back for the rest of the process (--no-cookies: off).
  bool cookies = true;
};

}  // namespace claribi::transport
