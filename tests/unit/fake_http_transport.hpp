#pragma once

// A scripted remote behind the HttpTransport seam: records every transfer Remote starts and
// lets a test answer each one (head, events, end) when it chooses. Handlers run from the
// test, never from inside `start`, as with the real worker.

#include "transport/http_transport.hpp"
#include "transport/remote.hpp"
#include "util/jsonrpc.hpp"
#include "util/text.hpp"
#include "util/url.hpp"

#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace claribi::test {

struct FakeTransfer {
  transport::HttpRequest request;
  transport::HttpHandlers handlers;
  bool cancelled = false;
  bool ended = false;

  /// The request header's value, or nullopt when it was not sent.
  std::optional<std::string> header(std::string_view name) const {
    auto want = text::lower(name);
    for (const auto& line : request.headers) {
      auto colon = line.find(':');
      if (colon != std::string::npos && text::lower(line.substr(0, colon)) == want) {
        return std::string(text::trim(line.substr(colon + 1)));
      }
    }
    return std::nullopt;
  }
  bool live() const { return !cancelled && !ended; }
};

class FakeHttpTransport final : public transport::HttpTransport {
 public:
  TransferId start(transport::HttpRequest request, transport::HttpHandlers handlers) override {
    auto t = std::make_unique<FakeTransfer>();
    t->request = std::move(request);
    t->handlers = std::move(handlers);
    m_transfers.push_back(std::move(t));
    return m_transfers.size();
  }
  void cancel(TransferId id) override {
    if (id != 0 && id <= m_transfers.size()) m_transfers[id - 1]->cancelled = true;
  }

  std::size_t count() const { return m_transfers.size(); }
  /// Transfers are numbered from 1 in the order they started.
  FakeTransfer& at(TransferId id) {
    REQUIRE(id >= 1);
    REQUIRE(id <= m_transfers.size());
    return *m_transfers[id - 1];
  }
  TransferId last() const { return m_transfers.size(); }

  void head(TransferId id, long status, std::string content_type,
            std::vector<Header> headers = {}) {
    auto& t = at(id);
    REQUIRE(t.live());
    auto on_head = t.handlers.on_head;
    if (on_head) on_head(transport::HttpHead{status, std::move(content_type), std::move(headers)});
  }
  void event(TransferId id, std::string data, std::string event_id, std::string type = "message") {
    auto& t = at(id);
    REQUIRE(t.live());
    auto on_event = t.handlers.on_event;
    REQUIRE(on_event);
    on_event(transport::SseEvent{std::move(type), std::move(data), std::move(event_id)});
  }
  void retry(TransferId id, long ms) {
    auto on_retry = at(id).handlers.on_retry;
    REQUIRE(on_retry);
    on_retry(ms);
  }
  void end(TransferId id, transport::HttpDone done = {}) {
    auto& t = at(id);
    REQUIRE(t.live());
    t.ended = true;
    auto on_done = t.handlers.on_done;
    if (on_done) on_done(std::move(done));
  }
  /// A whole answer: head, then the body.
  void answer(TransferId id, long status, std::string content_type, std::string body,
              std::vector<Header> headers = {}) {
    head(id, status, std::move(content_type), std::move(headers));
    transport::HttpDone done;
    done.body = std::move(body);
    end(id, std::move(done));
  }

 private:
  std::vector<std::unique_ptr<FakeTransfer>> m_transfers;
};

/// A Remote over the fake transport, recording what reaches the client.
struct RemoteHarness {
  struct Failure {
    std::string id;
    transport::RequestFailure failure;
  };

  asio::io_context io;
  FakeHttpTransport http;
  std::vector<std::pair<std::string, std::string>> messages;  ///< raw text, related id
  std::vector<Failure> failures;
  std::unique_ptr<transport::Remote> remote;

  explicit RemoteHarness(transport::TransportKind kind = transport::TransportKind::streamable_http,
                         long ping_interval_ms = 0) {
    transport::RemoteOptions options;
    options.url = *parse_url("http://127.0.0.1:8123/mcp");
    options.transport = kind;
    options.ping_interval_ms = ping_interval_ms;
    remote = std::make_unique<transport::Remote>(
        io, http, options,
        transport::RemoteEvents{[this](jsonrpc::Message&& m, const std::string& related) {
                                  messages.emplace_back(m.raw, related);
                                },
                                [this](const std::string& id, transport::RequestFailure&& f) {
                                  failures.push_back({id, std::move(f)});
                                },
                                nullptr});
  }

  void send(const std::string& text, transport::SendExtras extras = {}) {
    auto m = jsonrpc::parse(text);
    REQUIRE(m);
    remote->send(std::move(*m), std::move(extras));
  }

  /// Runs the timers that are due (zero-delay retries and resumptions).
  void settle(int ms = 30) {
    io.restart();
    io.run_for(std::chrono::milliseconds(ms));
  }

  static constexpr const char* k_initialize =
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}})";
  static constexpr const char* k_initialized =
      R"({"jsonrpc":"2.0","method":"notifications/initialized"})";

  static std::string initialize_result(const std::string& id) {
    return R"({"jsonrpc":"2.0","id":)" + id +
           R"(,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"s","version":"1"}}})";
  }

  /// The client's handshake on a session named `sid`; returns the GET stream's transfer.
  transport::HttpTransport::TransferId open_session(const std::string& sid) {
    send(k_initialize);
    http.answer(http.last(), 200, "application/json", initialize_result("1"),
                {{"Mcp-Session-Id", sid}});
    send(k_initialized);
    http.answer(http.last(), 202, "", "");
    auto get = http.last();
    REQUIRE(http.at(get).request.method == "GET");
    // The remote takes the GET stream: what the client sends next no longer waits for it.
    http.head(get, 200, "text/event-stream");
    return get;
  }
};

}  // namespace claribi::test
