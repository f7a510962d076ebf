#include "daemon/run.hpp"

#include "daemon/auth_session.hpp"

#include "transport/http_worker.hpp"
#include "transport/remote.hpp"
#include "util/log.hpp"
#include "util/platform.hpp"

#include <asio/steady_timer.hpp>

#include <csignal>
#include <functional>
#include <unordered_map>

namespace claribi::daemon {
namespace {

using Handler = std::function<void(jsonrpc::Message&)>;

/// A minimal scripted MCP client over `transport::Remote`.
class OneShotClient {
 public:
  OneShotClient(asio::io_context& io, const Invocation& inv)
      : m_io(io),
        m_http(io, inv.bridge.remote.cookies),
        m_remote(io, m_http, inv.bridge.remote,
                 transport::RemoteEvents{
                     [this](jsonrpc::Message&& m, const std::string&) { on_message(std::move(m)); },
                     [this](const std::string& id, transport::RequestFailure&& f) {
                       (void)id;
                       CLARIBI_LOG(error, f.message);
                       finish(1);
                     },
                     nullptr}),
        // The stored key or tokens, looked up as the bridge does; a 401 here means: run
        // 'claribi-bridge login' (no login from a one-shot command).
        m_auth(io,
               AuthOptions{inv.bridge.credential_source, inv.bridge.load_api_key, inv.bridge.oauth,
                           nullptr},
               AuthPort{[this](const std::string& a) { m_remote.set_authorization(a); },
                        [](Result<std::string>) {}, nullptr}),
        m_deadline(io) {
    if (inv.bridge.timeout_ms > 0) {
      m_deadline.expires_after(std::chrono::milliseconds(inv.bridge.timeout_ms));
      m_deadline.async_wait([this](const std::error_code& ec) {
        if (ec) return;
        CLARIBI_LOG(error, "no answer from the remote in time (--timeout)");
        finish(1);
      });
    }
  }

  void request(const std::string& method, const std::string& params, Handler on_result) {
    auto id = std::to_string(m_next_id++);
    send(jsonrpc::request(id, method, params));
    m_waiting[id] = std::move(on_result);
  }

  void notify(const std::string& method) { send(jsonrpc::notification(method)); }

  void finish(int code) {
    if (m_finished) return;
    m_finished = true;
    m_exit_code = code;
    m_deadline.cancel();
    m_remote.shutdown(1000, [this] { m_io.stop(); });
  }

  int exit_code() const { return m_exit_code; }

 private:
  void send(const std::string& text) {
    m_auth.when_ready([this, text] {
      auto m = jsonrpc::parse(text);
      if (m) m_remote.send(std::move(*m));
    });
  }

  void on_message(jsonrpc::Message&& m) {
    jsonrpc::make_whole(m);  // what this client prints is the document: all of it
    if (m.kind == jsonrpc::Kind::response) {
      auto it = m_waiting.find(m.id);
      if (it == m_waiting.end()) return;
      auto handler = std::move(it->second);
      m_waiting.erase(it);
      if (const auto* err = json::member(m.doc, "error")) {
        CLARIBI_LOG(error, "the remote answered with an error: " << json::to_string(*err));
        finish(1);
        return;
      }
      handler(m);
    } else if (m.kind == jsonrpc::Kind::request) {
      // This one-shot client offers no capabilities (sampling, elicitation, roots).
      send(jsonrpc::error_response(
          m.id, jsonrpc::code::method_not_found,
          "claribi-bridge's command line client does not support " + m.method));
    } else {
      CLARIBI_LOG(info, "remote notification: " << m.raw);
    }
  }

  asio::io_context& m_io;
  transport::HttpWorker m_http;
  transport::Remote m_remote;
  AuthSession m_auth;
  asio::steady_timer m_deadline;
  std::unordered_map<std::string, Handler> m_waiting;
  int m_next_id = 1;
  bool m_finished = false;
  int m_exit_code = 0;
};

std::string first_line(std::string_view s, std::size_t max) {
  auto line = s.substr(0, s.find('\n'));
  if (line.size() > max) return std::string(line.substr(0, max - 3)) + "...";
  return std::string(line);
}

}  // namespace

int run_diagnostic(const Invocation& inv, StdoutWriter& out) {
  platform::prepare_stdio();
  asio::io_context io;
  OneShotClient client(io, inv);
  auto tools = std::make_shared<json::Document>();
  tools->SetArray();

  std::function<void(const std::string&)> list_page = [&](const std::string& cursor) {
    std::string params = cursor.empty() ? "{}" : "{\"cursor\":" + json::quote(cursor) + "}";
    client.request("tools/list", params, [&](jsonrpc::Message& m) {
      const auto* result = json::member(m.doc, "result");
      const auto* page = result ? json::member(*result, "tools") : nullptr;
      if (page != nullptr && page->IsArray()) {
        for (const auto& t : page->GetArray()) {
          json::Value copy(t, tools->GetAllocator());
          tools->PushBack(copy, tools->GetAllocator());
        }
      }
      auto next = json::string_or_empty(result ? json::member(*result, "nextCursor") : nullptr);
      if (!next.empty()) {
        list_page(std::string(next));
        return;
      }
      if (inv.json_output) {
        out.write_line(json::to_pretty_string(*tools));
      } else {
        for (const auto& t : tools->GetArray()) {
          auto name = json::string_or_empty(json::member(t, "name"));
          auto description = json::string_or_empty(json::member(t, "description"));
          out.write_line(std::string(name) + (description.empty() ? "" : "  ") +
                         first_line(description, 100));
        }
      }
      client.finish(0);
    });
  };

  auto after_initialize = [&](jsonrpc::Message&) {
    client.notify("notifications/initialized");
    if (inv.command == Invocation::Command::tools) {
      list_page("");
      return;
    }
    client.request(
        "tools/call",
        "{\"name\":" + json::quote(inv.tool) + ",\"arguments\":" + inv.tool_arguments + "}",
        [&](jsonrpc::Message& m) {
          const auto* result = json::member(m.doc, "result");
          if (result == nullptr) {
            client.finish(1);
            return;
          }
          out.write_line(json::to_pretty_string(*result));
          const auto* is_error = json::member(*result, "isError");
          client.finish(is_error != nullptr && is_error->IsBool() && is_error->GetBool() ? 1 : 0);
        });
  };
  client.request("initialize",
                 "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{"
                 "\"name\":\"claribi-bridge-cli\",\"version\":\"" CLARIBI_VERSION "\"}}",
                 after_initialize);
  io.run();
  return client.exit_code();
}

}  // namespace claribi::daemon
