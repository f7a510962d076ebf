// The login callback listener, with real sockets: what it binds, what it refuses, when it
// gives up.
#include <catch2/catch.hpp>

#include "oauth/loopback.hpp"

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <future>
#include <string>

using namespace claribi::oauth;
using asio::ip::tcp;

namespace {

/// Sends `request` to `address`:`port` and returns the whole answer ("" when refused).
std::string send_raw(int port, const std::string& request, const char* address = "127.0.0.1") {
  asio::io_context io;
  tcp::socket s(io);
  std::error_code ec;
  s.connect(tcp::endpoint(asio::ip::make_address(address), static_cast<unsigned short>(port)), ec);
  if (ec) return "";
  asio::write(s, asio::buffer(request), ec);
  std::string answer;
  char buf[4096];
  for (;;) {
    auto n = s.read_some(asio::buffer(buf), ec);
    answer.append(buf, n);
    if (ec) break;
  }
  return answer;
}

std::string get(int port, const std::string& target, const std::string& host = "") {
  auto h = host.empty() ? "127.0.0.1:" + std::to_string(port) : host;
  return send_raw(port,
                  "GET " + target + " HTTP/1.1\r\nHost: " + h + "\r\nConnection: close\r\n\r\n");
}

}  // namespace

TEST_CASE("the callback listener binds 127.0.0.1 only", "[oauth]") {
  auto l = CallbackListener::open(0);
  REQUIRE(l);
  int port = (*l)->port();
  CHECK(port > 0);
  CHECK((*l)->redirect_uri() == "http://127.0.0.1:" + std::to_string(port) + "/callback");
  // Were it bound to 0.0.0.0, the same port on another loopback address would be taken
  // (EADDRINUSE); bound to 127.0.0.1 alone, it is free.
  asio::io_context io;
  tcp::socket probe(io);
  std::error_code ec;
  probe.open(tcp::v4(), ec);
  probe.bind(tcp::endpoint(asio::ip::make_address("127.0.0.2"), static_cast<unsigned short>(port)),
             ec);
  CHECK_FALSE(ec);
}

TEST_CASE("the callback listener accepts one callback with the right state", "[oauth]") {
  auto l = CallbackListener::open(0);
  REQUIRE(l);
  int port = (*l)->port();
  auto waiting = std::async(std::launch::async,
                            [&] { return (*l)->wait("the-state", std::chrono::seconds(10)); });
  auto wrong_state = get(port, "/callback?code=abc&state=forged");
  CHECK(wrong_state.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(wrong_state.find("state mismatch") != std::string::npos);
  auto no_state = get(port, "/callback?code=abc");
  CHECK(no_state.rfind("HTTP/1.1 400", 0) == 0);
  auto other_path = get(port, "/favicon.ico");
  CHECK(other_path.rfind("HTTP/1.1 404", 0) == 0);
  auto foreign_host =
      get(port, "/callback?code=abc&state=the-state", "evil.example:" + std::to_string(port));
  CHECK(foreign_host.rfind("HTTP/1.1 400", 0) == 0);
  auto post =
      send_raw(port, "POST /callback?code=abc&state=the-state HTTP/1.1\r\nHost: 127.0.0.1:" +
                         std::to_string(port) + "\r\nContent-Length: 0\r\n\r\n");
  CHECK(post.rfind("HTTP/1.1 405", 0) == 0);
  CHECK(waiting.wait_for(std::chrono::milliseconds(100)) == std::future_status::timeout);

  std::string answer;
  std::thread browser(
      [&] { answer = get(port, "/callback?code=the%20code&state=the-state&iss=x"); });
  auto params = waiting.get();
  REQUIRE(params);
  Form expected{{"code", "the code"}, {"state", "the-state"}, {"iss", "x"}};
  CHECK(*params == expected);
  (*l)->finish(true, "Signed in to <b>x</b>");
  browser.join();
  CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(answer.find("Signed in to &lt;b&gt;x&lt;/b&gt;") != std::string::npos);  // escaped
  CHECK(answer.find("Content-Security-Policy: default-src 'none'") != std::string::npos);
  CHECK(answer.find("http://") == std::string::npos);  // no external resource
  CHECK(answer.find("https://") == std::string::npos);

  // A second hit finds nobody listening.
  CHECK(get(port, "/callback?code=again&state=the-state").empty());
}

TEST_CASE("the callback listener gives up after its timeout", "[oauth]") {
  auto l = CallbackListener::open(0);
  REQUIRE(l);
  auto t0 = std::chrono::steady_clock::now();
  auto r = (*l)->wait("s", std::chrono::milliseconds(700));
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("--login-timeout") != std::string::npos);
  CHECK(took >= std::chrono::milliseconds(700));
  CHECK(took < std::chrono::seconds(5));
}

TEST_CASE("a taken --callback-port is a clear error", "[oauth]") {
  auto first = CallbackListener::open(0);
  REQUIRE(first);
  auto second = CallbackListener::open((*first)->port());
  REQUIRE_FALSE(second);
  CHECK(second.error().message.find("--callback-port") != std::string::npos);
}

TEST_CASE("a callback with a duplicated parameter, or with neither code nor error, is refused",
          "[oauth]") {
  auto l = CallbackListener::open(0);
  REQUIRE(l);
  int port = (*l)->port();
  auto waiting = std::async(std::launch::async,
                            [&] { return (*l)->wait("the-state", std::chrono::seconds(10)); });
  // RFC 6749 3.1: parameters must not be included more than once; the last one must not win.
  auto twice = get(port, "/callback?code=abc&state=bad&state=the-state");
  CHECK(twice.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(twice.find("more than once") != std::string::npos);
  auto two_codes = get(port, "/callback?code=abc&code=def&state=the-state");
  CHECK(two_codes.rfind("HTTP/1.1 400", 0) == 0);
  auto empty = get(port, "/callback?state=the-state");
  CHECK(empty.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(empty.find("neither") != std::string::npos);
  CHECK(waiting.wait_for(std::chrono::milliseconds(100)) == std::future_status::timeout);

  std::string answer;
  std::thread browser([&] { answer = get(port, "/callback?error=access_denied&state=the-state"); });
  auto params = waiting.get();
  REQUIRE(params);
  Form expected{{"error", "access_denied"}, {"state", "the-state"}};
  CHECK(*params == expected);
  (*l)->finish(false, "denied");
  browser.join();
}

TEST_CASE("the callback host and path make the redirect URI, the listener stays local", "[oauth]") {
  auto l = CallbackListener::open(0, CallbackAddress{"localhost", "/oauth/cb", false});
  REQUIRE(l);
  int port = (*l)->port();
  CHECK((*l)->redirect_uri() == "http://localhost:" + std::to_string(port) + "/oauth/cb");
  auto waiting =
      std::async(std::launch::async, [&] { return (*l)->wait("s1", std::chrono::seconds(10)); });
  auto host = "localhost:" + std::to_string(port);
  CHECK(get(port, "/callback?code=c&state=s1", host).rfind("HTTP/1.1 404", 0) == 0);
  CHECK(get(port, "/oauth/cb/x?code=c&state=s1", host).rfind("HTTP/1.1 404", 0) == 0);
  std::string answer;
  std::thread browser([&] { answer = get(port, "/oauth/cb?code=c&state=s1", host); });
  auto params = waiting.get();
  REQUIRE(params);
  (*l)->finish(true, "ok");
  browser.join();
  CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
  // Not on [::1] unless asked.
  CHECK(send_raw(port, "GET / HTTP/1.1\r\n\r\n", "::1").empty());
}

TEST_CASE("for localhost resolving to ::1, the listener takes the same port there too", "[oauth]") {
  auto l = CallbackListener::open(0, CallbackAddress{"localhost", "/callback", true});
  REQUIRE(l);
  int port = (*l)->port();
  asio::io_context io;
  tcp::socket probe(io);
  std::error_code ec;
  probe.open(tcp::v6(), ec);
  if (ec) return;  // no IPv6 here: the listener kept 127.0.0.1 alone
  probe.bind(tcp::endpoint(asio::ip::make_address("::1"), static_cast<unsigned short>(port)), ec);
  if (std::error_code(ec.value(), std::system_category()) == std::errc::address_not_available) {
    return;
  }
  CHECK(ec == asio::error::address_in_use);  // taken: by the listener
  auto waiting =
      std::async(std::launch::async, [&] { return (*l)->wait("s6", std::chrono::seconds(10)); });
  std::string answer;
  std::thread browser([&] {
    answer = send_raw(port,
                      "GET /callback?code=c&state=s6 HTTP/1.1\r\nHost: localhost:" +
                          std::to_string(port) + "\r\nConnection: close\r\n\r\n",
                      "::1");
  });
  auto params = waiting.get();
  REQUIRE(params);
  (*l)->finish(true, "ok");
  browser.join();
  CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("callback hosts other than loopback names, and bad paths, are refused", "[oauth]") {
  for (const char* host : {"example.com", "0.0.0.0", "::1", "127.0.0.2", "LOCALHOST", ""}) {
    INFO(host);
    auto r = check_callback_address(CallbackAddress{host, "/callback", false});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("127.0.0.1 or localhost") != std::string::npos);
    CHECK_FALSE(CallbackListener::open(0, CallbackAddress{host, "/callback", false}));
  }
  for (const char* path : {"", "callback", "/cb?x=1", "/cb#f", "/c b", "/c\nb"}) {
    INFO(path);
    auto r = check_callback_address(CallbackAddress{"127.0.0.1", path, false});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("--callback-path") != std::string::npos);
  }
  CHECK(check_callback_address(CallbackAddress{"127.0.0.1", "/", false}));
  CHECK(check_callback_address(CallbackAddress{"localhost", "/oauth2/callback", false}));
}
