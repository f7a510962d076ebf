#include "oauth/loopback.hpp"

#include "util/log.hpp"
#include "util/text.hpp"

#include <asio/buffer.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace claribi::oauth {
namespace {

using asio::ip::tcp;

constexpr std::size_t k_max_request = 8192;
constexpr auto k_connection_budget = std::chrono::seconds(10);
/// Free ports of 127.0.0.1 tried for one that is free on [::1] too.
constexpr int k_port_attempts = 8;

std::error_code listen_on(tcp::acceptor& a, const tcp::endpoint& ep) {
  std::error_code ec;
  a.open(ep.protocol(), ec);
  if (!ec && ep.address().is_v6()) a.set_option(asio::ip::v6_only(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::error_code ignored;
    a.close(ignored);
  }
  return ec;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string http_response(int status, const std::string& reason, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " +
         std::to_string(body.size()) +
         "\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n"
         "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n"
         "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n" +
         body;
}

}  // namespace

std::string callback_page(bool ok, const std::string& message) {
  std::string title = ok ? "Signed in" : "Sign-in failed";
  std::string color = ok ? "#1a7f37" : "#b42318";
  return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
         "<title>claribi-bridge: " +
         title +
         "</title><style>body{font:16px/1.5 system-ui,sans-serif;margin:0;display:flex;"
         "min-height:100vh;align-items:center;justify-content:center;background:#f6f7f9;"
         "color:#1f2328}main{background:#fff;border:1px solid #d0d7de;border-radius:12px;"
         "padding:32px 40px;max-width:32em}h1{font-size:22px;margin:0 0 8px;color:" +
         color + "}p{margin:8px 0}small{color:#57606a}</style></head><body><main><h1>" + title +
         "</h1><p>" + html_escape(message) +
         "</p><p><small>claribi-bridge &middot; you can close this tab.</small></p></main>"
         "</body></html>";
}

Result<void> check_callback_address(const CallbackAddress& where) {
  if (where.host != "127.0.0.1" && where.host != "localhost") {
    return fail("--callback-host must be 127.0.0.1 or localhost, not '" + where.host +
                "' (the login callback listens on the loopback interface only)");
  }
  const auto& p = where.path;
  bool clean = !p.empty() && p.front() == '/' && p.size() <= 1024;
  for (char c : p) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '?' || c == '#') clean = false;
  }
  if (!clean) {
    return fail(
        "--callback-path must start with '/' and hold no query, fragment, space or "
        "control character (e.g. /oauth/callback), not '" +
        log::redact(p) + "'");
  }
  return {};
}

bool localhost_resolves_to_ipv6() {
  asio::io_context io;
  tcp::resolver resolver(io);
  std::error_code ec;
  auto results = resolver.resolve("localhost", "", ec);
  if (ec) return false;
  for (const auto& r : results) {
    if (r.endpoint().address() == asio::ip::address_v6::loopback()) return true;
  }
  return false;
}

struct CallbackListener::Impl {
  asio::io_context io;
  std::vector<tcp::acceptor> acceptors;  ///< 127.0.0.1, then [::1] when asked
  CallbackAddress where;
  int port = 0;
  std::string state;
  std::optional<Form> accepted;
  std::shared_ptr<tcp::socket> accepted_socket;
  bool done = false;

  void accept(tcp::acceptor& acceptor) {
    auto socket = std::make_shared<tcp::socket>(io);
    acceptor.async_accept(*socket, [this, &acceptor, socket](const std::error_code& ec) {
      if (ec || done) return;
      serve(socket);
      accept(acceptor);
    });
  }

  void close() {
    std::error_code ignored;
    for (auto& a : acceptors) a.close(ignored);
  }

  void serve(const std::shared_ptr<tcp::socket>& socket) {
    auto buffer = std::make_shared<asio::streambuf>(k_max_request);
    auto timer = std::make_shared<asio::steady_timer>(io, k_connection_budget);
    timer->async_wait([socket](const std::error_code& ec) {
      if (!ec) socket->close();
    });
    asio::async_read_until(
        *socket, *buffer, "\r\n\r\n",
        [this, socket, buffer, timer](const std::error_code& ec, std::size_t n) {
          timer->cancel();
          if (ec) {
            if (ec == asio::error::not_found)
              reply(socket, 431, "Request Header Fields Too Large", "The request is too large.");
            return;
          }
          std::string head(asio::buffers_begin(buffer->data()),
                           asio::buffers_begin(buffer->data()) + static_cast<std::ptrdiff_t>(n));
          handle(socket, head);
        });
  }

  void reply(const std::shared_ptr<tcp::socket>& socket, int status, const std::string& reason,
             const std::string& message) {
    auto text =
        std::make_shared<std::string>(http_response(status, reason, callback_page(false, message)));
    asio::async_write(*socket, asio::buffer(*text),
                      [socket, text](const std::error_code&, std::size_t) {
                        std::error_code ignored;
                        socket->shutdown(tcp::socket::shutdown_both, ignored);
                        socket->close(ignored);
                      });
  }

  void handle(const std::shared_ptr<tcp::socket>& socket, const std::string& head) {
    auto line_end = head.find("\r\n");
    std::string_view line(head.data(), line_end);
    auto sp1 = line.find(' ');
    auto sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) {
      reply(socket, 400, "Bad Request", "This is not an HTTP request.");
      return;
    }
    auto method = line.substr(0, sp1);
    auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string host;
    std::size_t pos = line_end + 2;
    while (pos < head.size()) {
      auto end = head.find("\r\n", pos);
      if (end == std::string::npos || end == pos) break;
      std::string_view h(head.data() + pos, end - pos);
      auto colon = h.find(':');
      if (colon != std::string_view::npos && text::lower(h.substr(0, colon)) == "host") {
        host = text::lower(text::trim(h.substr(colon + 1)));
      }
      pos = end + 2;
    }
    const std::string port_text = std::to_string(port);
    if (host != "127.0.0.1:" + port_text && host != "localhost:" + port_text) {
      CLARIBI_LOG(warn, "login callback listener: refused a request for host '" << log::redact(host)
                                                                                << "'");
      reply(socket, 400, "Bad Request", "This listener only answers requests for 127.0.0.1.");
      return;
    }
    auto q = target.find('?');
    auto path = target.substr(0, q);
    if (path != where.path) {
      reply(socket, 404, "Not Found", "Nothing here. The sign-in callback is elsewhere.");
      return;
    }
    if (method != "GET") {
      reply(socket, 405, "Method Not Allowed", "The sign-in callback takes GET only.");
      return;
    }
    auto params =
        parse_query(q == std::string_view::npos ? std::string_view() : target.substr(q + 1));
    std::string got_state;
    bool has_code = false;
    bool has_error = false;
    std::set<std::string> seen;
    for (const auto& [k, v] : params) {
      if (!seen.insert(k).second) {
        // RFC 6749 3.1: no parameter twice. Taking the first or the last would let a crafted
        // link pair a forged value with the right state.
        CLARIBI_LOG(warn, "login callback listener: refused a callback with '"
                              << log::redact(k) << "' more than once");
        reply(socket, 400, "Bad Request",
              "This sign-in response names a parameter more than once, so it cannot be trusted. "
              "Start the login again from your MCP client.");
        return;
      }
      if (k == "state") got_state = v;
      if (k == "code") has_code = true;
      if (k == "error") has_error = true;
    }
    if (got_state.empty() || got_state != state) {
      CLARIBI_LOG(warn, "login callback listener: refused a callback with "
                            << (got_state.empty() ? "no state" : "the wrong state"));
      reply(socket, 400, "Bad Request",
            "This sign-in response does not belong to the login in progress (state mismatch). "
            "Start the login again from your MCP client.");
      return;
    }
    if (!has_code && !has_error) {
      CLARIBI_LOG(warn, "login callback listener: refused a callback with neither code nor error");
      reply(socket, 400, "Bad Request",
            "This sign-in response carries neither a code nor an error; the login is still "
            "waiting. Finish signing in in the browser window that claribi-bridge opened.");
      return;
    }
    accepted = std::move(params);
    accepted_socket = socket;
    done = true;
    close();  // exactly one callback: later hits find nobody listening
  }
};

CallbackListener::CallbackListener(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
CallbackListener::~CallbackListener() = default;

Result<std::unique_ptr<CallbackListener>> CallbackListener::open(int port,
                                                                 const CallbackAddress& where) {
  if (auto ok = check_callback_address(where); !ok) return fail(ok.error().message);
  const std::string taken = " (another program uses the port given by --callback-port)";
  for (int attempt = 1;; ++attempt) {
    auto impl = std::make_unique<Impl>();
    impl->where = where;
    impl->acceptors.reserve(2);
    auto& v4 = impl->acceptors.emplace_back(impl->io);
    auto ec = listen_on(
        v4, tcp::endpoint(asio::ip::address_v4::loopback(), static_cast<unsigned short>(port)));
    if (ec) {
      return fail("cannot listen on 127.0.0.1:" + std::to_string(port) +
                  " for the login callback: " + ec.message() + (port != 0 ? taken : ""));
    }
    impl->port = v4.local_endpoint().port();
    if (where.ipv6) {
      auto& v6 = impl->acceptors.emplace_back(impl->io);
      ec = listen_on(v6, tcp::endpoint(asio::ip::address_v6::loopback(),
                                       static_cast<unsigned short>(impl->port)));
      if (ec == asio::error::address_in_use && port == 0 && attempt < k_port_attempts) continue;
      if (ec == asio::error::address_family_not_supported ||
          std::error_code(ec.value(), std::system_category()) == std::errc::address_not_available) {
        CLARIBI_LOG(
            info, "login callback: no IPv6 loopback here (" << ec.message() << "); 127.0.0.1 only");
        impl->acceptors.pop_back();
      } else if (ec) {
        // Left to another program, [::1]:PORT would get the browser's callback.
        return fail("cannot listen on [::1]:" + std::to_string(impl->port) +
                    " for the login callback (localhost resolves to it here): " + ec.message() +
                    (port != 0 ? taken : ""));
      }
    }
    return std::unique_ptr<CallbackListener>(new CallbackListener(std::move(impl)));
  }
}

int CallbackListener::port() const {
  return m->port;
}

std::string CallbackListener::redirect_uri() const {
  return "http://" + m->where.host + ":" + std::to_string(m->port) + m->where.path;
}

Result<Form> CallbackListener::wait(const std::string& state, std::chrono::milliseconds timeout) {
  m->state = state;
  for (auto& a : m->acceptors) m->accept(a);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!m->done) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) break;
    m->io.run_for(
        std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(200)));
    if (m->io.stopped()) m->io.restart();
  }
  if (!m->done) {
    m->close();
    m->done = true;
    return fail("no answer from the browser within " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
                " s (--login-timeout); the login was abandoned");
  }
  return *m->accepted;
}

void CallbackListener::finish(bool ok, const std::string& message) {
  if (!m->accepted_socket) return;
  auto socket = std::move(m->accepted_socket);
  auto text = http_response(ok ? 200 : 400, ok ? "OK" : "Bad Request", callback_page(ok, message));
  std::error_code ec;
  asio::write(*socket, asio::buffer(text), ec);
  socket->shutdown(tcp::socket::shutdown_both, ec);
  socket->close(ec);
  // Let error replies to other connections go out.
  m->io.run_for(std::chrono::milliseconds(20));
}

}  // namespace claribi::oauth
