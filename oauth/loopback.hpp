#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "oauth/http.hpp"
#include "util/result.hpp"

namespace claribi::oauth {

/// The redirect target of a browser login (RFC 8252 7.3): an HTTP listener on 127.0.0.1
/// only, opened before the browser is launched. It accepts exactly one request: GET on the
/// callback path, with the expected `state`, addressed to this listener (Host
/// 127.0.0.1:PORT or localhost:PORT). Other paths, states, methods and hosts are answered
/// with an error page and the listener keeps waiting; after the one callback it closes.
class CallbackListener {
 public:
  /// Binds 127.0.0.1:`port` (0: a free port chosen by the system).
  static Result<std::unique_ptr<CallbackListener>> open(int port);
  ~CallbackListener();
  CallbackListener(const CallbackListener&) = delete;
  CallbackListener& operator=(const CallbackListener&) = delete;

  int port() const;
  /// http://127.0.0.1:PORT/callback
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
