#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "transport/sse_parser.hpp"
#include "util/headers.hpp"
#include "util/shared_text.hpp"
#include "util/tls_trust.hpp"

namespace claribi::transport {

/// A POST body made while it is sent: `prefix`, then the base64 of a file read in pieces,
/// then `suffix`. Neither the file nor its encoding is ever whole in memory.
struct UploadBody {
  std::string prefix;
  std::string path;             ///< opened O_NOFOLLOW; must still be the file below
  std::uint64_t file_size = 0;  ///< as checked before the call; a change aborts the upload
  std::uint64_t device = 0;     ///< st_dev and st_ino of the checked file
  std::uint64_t inode = 0;
  std::string suffix;
  std::uint64_t total() const;  ///< the exact body length (Content-Length)
};

struct HttpRequest {
  std::string method = "POST";  ///< GET, POST or DELETE
  std::string url;
  std::vector<std::string> headers;  ///< "Name: value" lines
  SharedText body;                   ///< shared with whoever keeps it for sending again, not copied
  std::shared_ptr<const UploadBody> upload;  ///< when set, the body (instead of `body`)
  long timeout_ms = 0;                       ///< whole transfer; 0 means none (streams)
  long connect_timeout_ms = 10000;
  std::size_t max_body = std::size_t{64} << 20;  ///< a JSON body, or one SSE event
  std::shared_ptr<const tls::Trust> trust;       ///< null: libcurl's default CAs
  bool allow_http_redirects = false;
  /// The server must act on this body at most once (a tools/call that is not idempotent).
  /// libcurl re-sends a request whose reused connection died before any answer, POSTs too;
  /// with this set, a body that went out whole is never sent again: the transfer fails with
  /// `HttpDone::maybe_delivered` instead. A body cut short is still re-sent, as no server
  /// acts on half a body.
  bool at_most_once = false;
};

/// Status line and headers of the final response.
struct HttpHead {
  long status = 0;
  std::string content_type;  ///< lower-cased media type without parameters
  std::vector<Header> headers;

  /// Case-insensitive lookup; empty when absent.
  std::string header(std::string_view name) const;
  bool is_event_stream() const { return content_type == "text/event-stream"; }
};

struct HttpDone {
  bool ok = true;          ///< false: the transfer failed (connect, TLS, timeout, cut off...)
  bool too_large = false;  ///< a body or event passed `max_body`
  std::string error;       ///< libcurl's message when !ok
  std::string body;        ///< the whole body, for responses that are not event streams
  /// An `at_most_once` request failed after its whole body went out and before any byte
  /// of an answer came back: the server may or may not have acted on it.
  bool maybe_delivered = false;
};

/// Callbacks, all run on the io thread in the order the data arrived.
struct HttpHandlers {
  std::function<void(const HttpHead&)> on_head;  ///< once, before any event or done
  std::function<void(SseEvent&&)> on_event;      ///< text/event-stream responses only
  std::function<void(long)> on_retry;            ///< an SSE retry field, milliseconds
  std::function<void(HttpDone&&)> on_done;       ///< last call
  /// Uploads: bytes of the file sent so far and the file's size, now and then.
  std::function<void(std::uint64_t, std::uint64_t)> on_upload_progress;
};

/// What the MCP client side needs of HTTP: start a transfer whose head, events and end come
/// back through handlers on the io thread, and drop one. `HttpWorker` is the real one (libcurl
/// on its own thread); the unit tests script a remote behind it.
class HttpTransport {
 public:
  using TransferId = std::uint64_t;

  virtual ~HttpTransport() = default;

  /// Io thread. Starts a transfer; its handlers run on the io thread, in the order the data
  /// arrived, never from inside this call.
  virtual TransferId start(HttpRequest request, HttpHandlers handlers) = 0;

  /// Io thread. Drops a transfer; none of its handlers runs after this returns.
  virtual void cancel(TransferId id) = 0;

  /// Io thread. While `hold` is true, event streams are not read further (what was read is
  /// still handed on): the client takes their events more slowly than the remote sends them.
  virtual void hold_events(bool hold) { (void)hold; }
};

}  // namespace claribi::transport
