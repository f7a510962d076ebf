// HttpWorker's reactor side: libcurl's sockets waited on by Asio, its timeout on a steady
// timer, both on the io thread.
#include "transport/http_worker_sockets.hpp"

#include "util/log.hpp"
#include "util/platform.hpp"

#include <asio/post.hpp>

#include <chrono>

namespace claribi::transport {

int HttpWorker::Callbacks::socket(CURL*, curl_socket_t fd, int what, void* self, void*) {
  auto* w = static_cast<HttpWorker*>(self);
  auto key = static_cast<std::intptr_t>(fd);
  auto it = w->m_sockets.find(key);
  if (what == CURL_POLL_REMOVE) {
    if (it == w->m_sockets.end()) return 0;
    if (w->m_connections.count(key) != 0) {
      // Between two transfers on a kept-alive connection: stay registered, stop acting on
      // it. A wait still armed ends harmlessly (on_ready sees nothing wanted).
      it->second->wanted = 0;
    } else {
      asio::error_code ignored;
      it->second->sock.release(ignored);  // its waits end with operation_aborted
      w->m_sockets.erase(it);
    }
    return 0;
  }
  bool reused = it != w->m_sockets.end();
  if (!reused) {
    auto s = std::make_shared<Socket>(w->m_io);
    s->fd = key;
    asio::error_code ec;
    s->sock.assign(asio::ip::tcp::v4(), fd, ec);
    if (ec) {
      CLARIBI_LOG(error, "cannot watch a socket of libcurl: " << ec.message());
      return -1;  // libcurl fails the transfers rather than wait forever
    }
    it = w->m_sockets.emplace(key, std::move(s)).first;
  }
  auto s = it->second;
  s->wanted = what;
  w->watch(s);
  // Registered earlier: what the socket became ready for while nobody waited (the answer to
  // a request just sent, say) raised no event the reactor will report again. A registration
  // made just now reports the present state by itself.
  if (reused) w->poke(s);
  return 0;
}

int HttpWorker::Callbacks::timer(CURLM*, long timeout_ms, void* self) {
  // Never acts from here: libcurl refuses calls from its callbacks.
  auto* w = static_cast<HttpWorker*>(self);
  auto& t = *w->m_timer;
  auto generation = ++t.generation;
  t.timer.cancel();
  if (timeout_ms < 0) return 0;
  auto fire = [w, generation, running = std::weak_ptr<bool>(w->m_running)] {
    auto alive = running.lock();
    if (alive && *alive && w->m_timer->generation == generation) {
      w->act(static_cast<std::intptr_t>(CURL_SOCKET_TIMEOUT), 0);
    }
  };
  if (timeout_ms == 0) {
    asio::post(w->m_io, fire);
    return 0;
  }
  t.timer.expires_after(std::chrono::milliseconds(timeout_ms));
  t.timer.async_wait([fire](const asio::error_code& ec) {
    if (!ec) fire();
  });
  return 0;
}

curl_socket_t HttpWorker::Callbacks::open_socket(void* self, curlsocktype, curl_sockaddr* a) {
  auto* w = static_cast<HttpWorker*>(self);
  auto fd = platform::open_socket(a->family, a->socktype, a->protocol);
  if (fd == -1) return CURL_SOCKET_BAD;
  w->m_connections.insert(fd);
  return static_cast<curl_socket_t>(fd);
}

int HttpWorker::Callbacks::close_socket(void* self, curl_socket_t fd) {
  auto* w = static_cast<HttpWorker*>(self);
  auto key = static_cast<std::intptr_t>(fd);
  w->m_connections.erase(key);
  auto it = w->m_sockets.find(key);
  if (it == w->m_sockets.end()) return platform::close_socket(key);
  // Asio closes it: the reactor forgets the descriptor and its waits end, aborted, before
  // the number can name another socket.
  asio::error_code ec;
  it->second->sock.close(ec);
  w->m_sockets.erase(it);
  return ec ? 1 : 0;
}

void HttpWorker::watch(const std::shared_ptr<Socket>& s) {
  std::weak_ptr<Socket> weak = s;
  std::weak_ptr<bool> running = m_running;
  auto arm = [&](asio::socket_base::wait_type type, bool& waiting, int event) {
    waiting = true;
    s->sock.async_wait(type, [this, weak, running, event](const asio::error_code& ec) {
      auto alive = running.lock();
      auto socket = weak.lock();
      if (!alive || !*alive || !socket) return;
      (event == CURL_CSELECT_IN ? socket->read_waiting : socket->write_waiting) = false;
      if (ec == asio::error::operation_aborted) return;
      on_ready(weak, ec ? (event | CURL_CSELECT_ERR) : event);
    });
  };
  if ((s->wanted & CURL_POLL_IN) != 0 && !s->read_waiting) {
    arm(asio::socket_base::wait_read, s->read_waiting, CURL_CSELECT_IN);
  }
  if ((s->wanted & CURL_POLL_OUT) != 0 && !s->write_waiting) {
    arm(asio::socket_base::wait_write, s->write_waiting, CURL_CSELECT_OUT);
  }
}

void HttpWorker::poke(const std::shared_ptr<Socket>& s) {
  bool in = (s->wanted & CURL_POLL_IN) != 0;
  bool out = (s->wanted & CURL_POLL_OUT) != 0;
  int ready = platform::socket_ready(s->fd, in, out);
  // After the caller's turn: libcurl may not be called from its own callback.
  if ((ready & 1) != 0) post_ready(s, CURL_CSELECT_IN);
  if ((ready & 2) != 0) post_ready(s, CURL_CSELECT_OUT);
}

void HttpWorker::post_ready(const std::weak_ptr<Socket>& socket, int event) {
  asio::post(m_io, [this, socket, running = std::weak_ptr<bool>(m_running), event] {
    auto alive = running.lock();
    if (alive && *alive) on_ready(socket, event);
  });
}

void HttpWorker::on_ready(const std::weak_ptr<Socket>& weak, int event) {
  auto s = weak.lock();
  // Still the socket libcurl watches under that number: a closed one's descriptor may
  // already name another socket.
  auto watched = [&] {
    auto it = s ? m_sockets.find(s->fd) : m_sockets.end();
    return it != m_sockets.end() && it->second == s;
  };
  if (!watched()) return;
  bool read = (event & CURL_CSELECT_IN) != 0;
  int wanted = read ? CURL_POLL_IN : CURL_POLL_OUT;
  if ((s->wanted & wanted) == 0) return;  // libcurl stopped wanting it meanwhile
  act(s->fd, event);
  if (!watched()) return;  // libcurl closed the socket
  watch(s);
  // Asio's reactor reports readiness once (edge-triggered epoll, kqueue's EV_CLEAR): what
  // libcurl left unread, or room it did not fill, would not be reported again. Go on while
  // the socket is still ready, as a level-triggered poll would; after other handlers.
  if ((s->wanted & wanted) != 0 && platform::socket_ready(s->fd, read, !read) != 0) {
    post_ready(weak, event & ~CURL_CSELECT_ERR);
  }
}

}  // namespace claribi::transport
