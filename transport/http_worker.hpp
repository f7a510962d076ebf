#pragma once

#include <asio/io_context.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "transport/http_transport.hpp"

namespace claribi::transport {

/// Drives every HTTP transfer of the process on one thread with a libcurl multi handle
/// (`curl_multi_poll`, woken by `curl_multi_wakeup`), so any number of requests and
/// streams proceed at once without blocking the io thread. With `cookies`, every transfer
/// shares one in-memory cookie jar (sticky sessions behind load balancers): what the remote
/// sets is sent back on later requests of this worker, and never written anywhere.
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

 private:
  struct Transfer;
  void run();
  void finish(Transfer& t, int curl_code);
  static std::size_t on_write(char* data, std::size_t size, std::size_t n, void* self);
  static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* self);
  static std::size_t on_read(char* buffer, std::size_t size, std::size_t n, void* self);
  static int on_seek(void* self, std::int64_t offset, int origin);
  static int on_prereq(void* self, char* ip, char* local_ip, int port, int local_port);
  static std::size_t read_upload(Transfer& t, char* buffer, std::size_t room);
  void deliver_head(Transfer& t);

  asio::io_context& m_io;
  void* m_multi;  // CURLM*, kept opaque so users need not include curl.h
  struct CookieJar;
  std::unique_ptr<CookieJar> m_cookies;  ///< null: no cookies
  std::thread m_thread;
  std::mutex m_mutex;
  std::vector<std::unique_ptr<Transfer>> m_to_add;
  std::vector<TransferId> m_to_cancel;
  bool m_stop = false;
  std::atomic<TransferId> m_next_id{1};
  // Io thread only: live flags consulted before running a posted handler.
  std::unordered_map<TransferId, std::shared_ptr<bool>> m_alive;
};

}  // namespace claribi::transport
