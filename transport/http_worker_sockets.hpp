#pragma once

// HttpWorker's parts shared by http_worker.cpp (transfers) and http_worker_sockets.cpp
// (libcurl's sockets and timeout on Asio). Included by those two files only.

#include "transport/http_worker.hpp"

#include <curl/curl.h>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

namespace claribi::transport {

/// A socket libcurl asked to have watched, its descriptor lent to Asio for waiting. A
/// connection's socket (opened and closed through Callbacks::open_socket and close_socket)
/// stays registered from the first wait until it is closed, so a kept-alive connection costs
/// the reactor one registration, not one per request; any other (the resolver's wake-up pair)
/// is released when libcurl stops watching it, before libcurl closes it itself.
struct HttpWorker::Socket {
  explicit Socket(asio::io_context& io) : sock(io) {}
  asio::ip::tcp::socket sock;
  std::intptr_t fd = 0;
  int wanted = 0;  ///< CURL_POLL_IN, CURL_POLL_OUT, CURL_POLL_INOUT, or 0 between transfers
  bool read_waiting = false;
  bool write_waiting = false;
};

/// libcurl's single timeout. `generation` tells a stale expiry from the one in force.
struct HttpWorker::Timer {
  explicit Timer(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
  std::uint64_t generation = 0;
};

/// libcurl's callbacks for the multi handle's sockets and timeout, in its own types.
struct HttpWorker::Callbacks {
  static int socket(CURL*, curl_socket_t fd, int what, void* self, void*);
  static int timer(CURLM*, long timeout_ms, void* self);
  static curl_socket_t open_socket(void* self, curlsocktype purpose, curl_sockaddr* address);
  static int close_socket(void* self, curl_socket_t fd);
};

}  // namespace claribi::transport
