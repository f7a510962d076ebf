#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "oauth/http.hpp"
#include "util/result.hpp"

namespace claribi::oauth {

/// Where the browser is sent back to: http://HOST:PORT/PATH.
struct CallbackAddress {
  std::string host = "127.0.0.1";  ///< or localhost (--callback-host)
  std::string path = "/callback";  ///< --callback-path
  /// Also listen on [::1], on the same port: localhost names it too (see
  /// localhost_resolves_to_ipv6), and a browser may try it first.
  bool ipv6 = false;
};

/// Refuses a host other than 127.0.0.1 or localhost, and a path that does not start with
/// '/' or holds a query, a fragment, a space or a control character.
Result<void> check_callback_address(const CallbackAddress& where);

/// Whether this system resolves "localhost" to ::1.
bool localhost_resolves_to_ipv6();

/// The redirect target of a browser login (RFC 8252 7.3): an HTTP listener on 127.0.0.1
/// (and [::1] when asked), opened before the browser is launched. It accepts exactly one
/// request: GET on the callback path, with the expected `state`, addressed to this listener
/// (Host 127.0.0.1:PORT or localhost:PORT). Other paths, states, methods and hosts are
/// answered with an error page and the listener keeps waiting; after the one callback it
/// closes.
class CallbackListener {
 public:
  /// Binds 127.0.0.1:`port` (0: a free port chosen by the system, free on [::1] too when
  /// that is asked).
  static Result<std::unique_ptr<CallbackListener>> open(int port,
                                                        const CallbackAddress& where = {});
  ~CallbackListener();
  CallbackListener(const CallbackListener&) = delete;
  CallbackListener& operator=(const CallbackListener&) = delete;

  int port() const;
  /// http://HOST:PORT/PATH, by default http://127.0.0.1:PORT/callback
  std::string redirect_uri() const;

  /// Waits up to `timeout` for the callback carrying `state`; returns its query parameters
  /// (code, state, iss, or error...). The browser's connection stays open until `finish`.
  Result<Form> wait(const std::string& state, std::chrono::milliseconds timeout);
  /// Answers the accepted callback with the success or failure page, then closes.
  void finish(bool ok, const std::string& message);

 private:
  struct Impl;
  explicit CallbackListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m;
};

/// The small page the browser shows after the callback: no script, no external resource,
/// no secret. `message` is escaped.
std::string callback_page(bool ok, const std::string& message);

}  // namespace claribi::oauth
