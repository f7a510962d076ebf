#pragma once

#include <asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "transport/http_transport.hpp"

namespace claribi::transport {

/// Drives every HTTP transfer of the process from the io thread with a libcurl multi handle
/// on its socket interface: libcurl names the sockets it wants watched and when it wants
/// its timeout, Asio waits on them, and `curl_multi_socket_action` runs where the request
/// was made and where its answer is read, with no thread between. Any number of requests and
/// streams proceed at once without blocking the io thread: libcurl's sockets never block.
/// With `cookies`, every transfer shares one in-memory cookie jar (sticky sessions behind
/// load balancers): what the remote sets is sent back on later requests of this worker, and
/// never written anywhere.
class HttpWorker final : public HttpTransport {
 public:
  explicit HttpWorker(asio::io_context& io, bool cookies = true);
  ~HttpWorker() override;
  HttpWorker(const HttpWorker&) = delete;
  HttpWorker& operator=(const HttpWorker&) = delete;

  /// Io thread. Starts a transfer; handlers are posted to the io context.
  TransferId start(HttpRequest request, HttpHandlers handlers) override;
  /// Io thread. Drops a transfer; none of its handlers runs after this returns.
  void cancel(TransferId id) override;
  void hold_events(bool hold) override;

 private:
  struct Transfer;
  struct Socket;
  struct Backlog;
  /// Runs libcurl for `socket` (or its timeout) and ends the transfers that finished.
  void act(std::intptr_t socket, int events);
  /// Asks Asio to tell when `socket` can be read or written, as libcurl wants.
  void watch(const std::shared_ptr<Socket>& socket);
  /// Acts on `socket` soon if it is already ready for what libcurl wants (a registration
  /// older than the readiness raised no event).
  void poke(const std::shared_ptr<Socket>& socket);
  /// Runs on_ready(socket, event) after the handlers already queued, while the worker lives.
  void post_ready(const std::weak_ptr<Socket>& socket, int event);
  void on_ready(const std::weak_ptr<Socket>& socket, int event);
  void finish(Transfer& t, int curl_code);
  struct Callbacks;  ///< libcurl's socket, open, close and timer callbacks, in its own types
  static std::size_t on_write(char* data, std::size_t size, std::size_t n, void* self);
  static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* self);
  static std::size_t on_read(char* buffer, std::size_t size, std::size_t n, void* self);
  static int on_seek(void* self, std::int64_t offset, int origin);
  static int on_prereq(void* self, char* ip, char* local_ip, int port, int local_port);
  static std::size_t read_upload(Transfer& t, char* buffer, std::size_t room);
  void deliver_head(Transfer& t);
  /// Lets a transfer paused for its event backlog read again (never from a libcurl callback).
  void resume(TransferId id);

  asio::io_context& m_io;
  void* m_multi;  // CURLM*, kept opaque so users need not include curl.h
  struct CookieJar;
  std::unique_ptr<CookieJar> m_cookies;  ///< null: no cookies
  struct Timer;
  std::unique_ptr<Timer> m_timer;  ///< libcurl's one timeout
  std::unordered_map<std::intptr_t, std::shared_ptr<Socket>> m_sockets;
  /// Connection sockets, open through Callbacks::open_socket until close_socket: they stay
  /// registered with the reactor between transfers.
  std::unordered_set<std::intptr_t> m_connections;
  std::unordered_map<TransferId, std::unique_ptr<Transfer>> m_live;
  /// The most transfers under way at once so far: the connection cache is sized on it.
  std::size_t m_peak = 0;
  bool m_hold = false;  ///< event streams are not read while set (hold_events)
  TransferId m_next_id = 1;
  /// False once the worker is gone: what it posted or armed checks it first.
  std::shared_ptr<bool> m_running = std::make_shared<bool>(true);
  // Live flags consulted before running a posted handler.
  std::unordered_map<TransferId, std::shared_ptr<bool>> m_alive;
};

}  // namespace claribi::transport
