// A fast MCP server for the benchmark (not a test): streamable HTTP on 127.0.0.1, answering
// in microseconds so that its own time does not hide the bridge's. Prints its URL on stdout.
//
//   echo_server [--sse]     --sse: POST answers framed as one SSE event (server-everything's way)
//   echo_server --stdio     the same answers over stdin and stdout, one message per line: a
//                           stdio MCP server with nothing behind it, the floor of any bridge's
//                           cost (two pipe hops and a JSON parse)
//
// POST initialize: a 2025 revision echoed (2025-11-25, 2025-06-18, 2025-03-26; else the newest)
// and an Mcp-Session-Id. Notifications and responses: 202. tools/list: `echo` and `blob`.
// tools/call echo {"message"}: the message as text; tools/call blob {"bytes":N}: N bytes of text.
// ping: {}. Anything else (server/discover included): HTTP 200 with JSON-RPC error -32601
// "Method not found", as the official TypeScript SDK's 2025 server answers an unknown method,
// which the bridge's discover probe reads as a 2025 server.
// GET: an SSE stream (chunked) carrying N notifications/message, N from the `notify` query
// parameter of the URL (none without it), then held open until the client leaves.
// DELETE: 200. Paths other than /mcp: 404. Bodies over 8 MiB are refused (413) and the connection
// closed.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <asio/buffer.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include <unistd.h>

using asio::ip::tcp;

namespace {

constexpr std::size_t k_max_head = 64 * 1024;
constexpr std::size_t k_max_body = 8u << 20;
bool g_sse = false;
unsigned long g_session = 0;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return {b.GetString(), b.GetSize()};
}

std::string quote(std::string_view s) {
  rapidjson::Value v(rapidjson::StringRef(s.data(), s.size()));
  return to_json(v);
}

const rapidjson::Value* member(const rapidjson::Value* v, const char* name) {
  if (v == nullptr || !v->IsObject()) return nullptr;
  auto it = v->FindMember(name);
  return it == v->MemberEnd() ? nullptr : &it->value;
}

std::string str(const rapidjson::Value* v) {
  return v != nullptr && v->IsString() ? std::string(v->GetString(), v->GetStringLength())
                                       : std::string();
}

const char* k_tools =
    R"({"tools":[{"name":"echo","description":"Echoes the message back.",)"
    R"("inputSchema":{"type":"object","properties":{"message":{"type":"string"}},)"
    R"("required":["message"]}},{"name":"blob","description":"Returns N bytes of text.",)"
    R"("inputSchema":{"type":"object","properties":{"bytes":{"type":"integer"}},)"
    R"("required":["bytes"]}}]})";

/// The JSON-RPC answer to one request (empty for a notification or a response).
std::string answer(const rapidjson::Document& d, std::string& session) {
  const auto* method = member(&d, "method");
  const auto* id = member(&d, "id");
  if (method == nullptr || id == nullptr) return {};
  std::string m = str(method), rid = to_json(*id), result;
  const auto* params = member(&d, "params");
  if (m == "initialize") {
    std::string want = str(member(params, "protocolVersion"));
    if (want != "2025-11-25" && want != "2025-06-18" && want != "2025-03-26") want = "2025-11-25";
    session = "echo-" + std::to_string(++g_session);
    result = R"({"protocolVersion":")" + want +
             R"(","capabilities":{"tools":{},"logging":{}},)"
             R"("serverInfo":{"name":"claribi-bench-echo","version":"1.0.0"}})";
  } else if (m == "ping") {
    result = "{}";
  } else if (m == "tools/list") {
    result = k_tools;
  } else if (m == "tools/call") {
    std::string name = str(member(params, "name"));
    const auto* args = member(params, "arguments");
    std::string text;
    if (name == "echo") {
      text = quote("Echo: " + str(member(args, "message")));
    } else if (name == "blob") {
      const auto* n = member(args, "bytes");
      std::size_t bytes = n != nullptr && n->IsUint64() ? n->GetUint64() : 0;
      text.reserve(bytes + 2);
      text += '"';
      for (std::size_t i = 0; i < bytes; ++i) text += static_cast<char>('a' + i % 26);
      text += '"';
    } else {
      return R"({"jsonrpc":"2.0","id":)" + rid +
             R"(,"error":{"code":-32602,"message":"Unknown tool"}})";
    }
    result = R"({"content":[{"type":"text","text":)" + text + "}]}";
  } else {
    return R"({"jsonrpc":"2.0","id":)" + rid +
           R"(,"error":{"code":-32601,"message":"Method not found"}})";
  }
  return R"({"jsonrpc":"2.0","id":)" + rid + R"(,"result":)" + result + "}";
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(tcp::socket s) : m_socket(std::move(s)) {
    m_socket.set_option(tcp::no_delay(true));
  }
  void start() { read(); }

 private:
  void read() {
    auto self = shared_from_this();
    m_socket.async_read_some(asio::buffer(m_chunk), [self](std::error_code ec, std::size_t n) {
      if (ec) return;
      self->m_in.append(self->m_chunk.data(), n);
      self->parse();
    });
  }

  /// Handles every whole request in the buffer, then reads on (or writes first).
  void parse() {
    std::string out;
    for (;;) {
      auto end = m_in.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (m_in.size() > k_max_head) return fail(431);
        break;
      }
      std::string_view head(m_in.data(), end);
      std::size_t length = 0;
      std::string query, method(head.substr(0, head.find(' ')));
      auto target_end = head.find(' ', method.size() + 1);
      std::string target(head.substr(method.size() + 1, target_end - method.size() - 1));
      if (auto q = target.find('?'); q != std::string::npos) query = target.substr(q + 1);
      bool chunked = false;
      for (std::size_t at = head.find("\r\n"); at != std::string_view::npos;) {
        auto next = head.find("\r\n", at + 2);
        auto line = head.substr(
            at + 2, next == std::string_view::npos ? std::string_view::npos : next - at - 2);
        auto colon = line.find(':');
        if (colon != std::string_view::npos) {
          auto name = lower(line.substr(0, colon));
          auto value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
          if (name == "content-length")
            length = std::strtoull(std::string(value).c_str(), nullptr, 10);
          if (name == "transfer-encoding") chunked = true;
        }
        at = next;
      }
      if (chunked) return fail(411);
      if (length > k_max_body) return fail(413);
      if (m_in.size() < end + 4 + length) break;
      std::string body = m_in.substr(end + 4, length);
      m_in.erase(0, end + 4 + length);
      if (target.compare(0, 4, "/mcp") != 0 || (target.size() > 4 && target[4] != '?')) {
        out += reply(404, "", "");  // OAuth metadata and the like: there is none
        continue;
      }
      if (method == "GET") return stream(query, std::move(out));
      out += respond(method, body);
    }
    if (out.empty()) return read();
    write(std::move(out), true);
  }

  std::string respond(const std::string& method, const std::string& body) {
    if (method == "DELETE") return reply(200, "", "");
    if (method != "POST") return reply(405, "", "");
    rapidjson::Document d;
    d.Parse(body.data(), body.size());
    if (d.HasParseError()) {
      return reply(
          400, "application/json",
          R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}})");
    }
    std::string session, out;
    if (d.IsArray()) {
      for (const auto& m : d.GetArray()) {
        rapidjson::Document one;
        one.CopyFrom(m, one.GetAllocator());
        auto a = answer(one, session);
        if (!a.empty()) out += (out.empty() ? "[" : ",") + a;
      }
      if (!out.empty()) out += "]";
    } else {
      out = answer(d, session);
    }
    if (out.empty()) return reply(202, "", "");
    std::string extra = session.empty() ? "" : "Mcp-Session-Id: " + session + "\r\n";
    if (g_sse)
      return reply(200, "text/event-stream", "event: message\ndata: " + out + "\n\n", extra);
    return reply(200, "application/json", out, extra);
  }

  static std::string reply(int status, std::string_view type, std::string_view body,
                           std::string_view extra = {}) {
    const char* reason = status == 200   ? "OK"
                         : status == 202 ? "Accepted"
                         : status == 404 ? "Not Found"
                                         : "Error";
    std::string r = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
    if (!type.empty()) r.append("Content-Type: ").append(type).append("\r\n");
    r.append(extra);
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    r.append(body);
    return r;
  }

  void write(std::string text, bool then_read = false) {
    auto self = shared_from_this();
    auto buf = std::make_shared<std::string>(std::move(text));
    asio::async_write(m_socket, asio::buffer(*buf),
                      [self, buf, then_read](std::error_code ec, std::size_t) {
                        if (!ec && then_read) self->parse_or_read();
                      });
  }
  void parse_or_read() {
    if (m_in.find("\r\n\r\n") != std::string::npos) return parse();
    read();
  }

  void fail(int status) {
    auto self = shared_from_this();
    auto buf = std::make_shared<std::string>(reply(status, "", ""));
    buf->insert(buf->size() - 2, "Connection: close\r\n");
    asio::async_write(m_socket, asio::buffer(*buf), [self, buf](std::error_code, std::size_t) {
      std::error_code ignored;
      self->m_socket.shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  /// The GET stream: `notify` notifications in chunks of 256 events, then silence.
  void stream(const std::string& query, std::string before) {
    m_left = 0;
    for (std::size_t at = 0; at < query.size();) {
      auto amp = query.find('&', at);
      auto pair = query.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
      if (pair.rfind("notify=", 0) == 0) m_left = std::strtoul(pair.c_str() + 7, nullptr, 10);
      at = amp == std::string::npos ? query.size() : amp + 1;
    }
    auto self = shared_from_this();
    auto head = std::make_shared<std::string>(
        std::move(before) +
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Transfer-Encoding: chunked\r\n\r\n");
    asio::async_write(m_socket, asio::buffer(*head), [self, head](std::error_code ec, std::size_t) {
      if (!ec) self->more_events();
    });
  }
  void more_events() {
    if (m_left == 0) {
      // Held open: reading until the client leaves (a close ends this connection).
      auto self = shared_from_this();
      m_socket.async_read_some(asio::buffer(m_chunk), [self](std::error_code ec, std::size_t) {
        if (!ec) self->more_events();
      });
      return;
    }
    std::string events;
    for (int i = 0; i < 256 && m_left > 0; ++i, --m_left, ++m_sent) {
      events += R"(data: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":)"
                R"("info","logger":"bench","data":{"n":)" +
                std::to_string(m_sent) + "}}}\n\n";
    }
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", events.size());
    auto buf = std::make_shared<std::string>(size + events + "\r\n");
    auto self = shared_from_this();
    asio::async_write(m_socket, asio::buffer(*buf), [self, buf](std::error_code ec, std::size_t) {
      if (!ec) self->more_events();
    });
  }

  tcp::socket m_socket;
  std::array<char, 16 * 1024> m_chunk{};
  std::string m_in;
  unsigned long m_left = 0, m_sent = 0;
};

void accept(tcp::acceptor& a) {
  a.async_accept([&a](std::error_code ec, tcp::socket s) {
    if (!ec) std::make_shared<Connection>(std::move(s))->start();
    accept(a);
  });
}

}  // namespace

/// --stdio: each line of stdin answered on stdout, written at once.
int serve_stdio() {
  std::string in, session;
  std::array<char, 64 * 1024> chunk{};
  for (;;) {
    ssize_t n = ::read(0, chunk.data(), chunk.size());
    if (n <= 0) return 0;
    in.append(chunk.data(), static_cast<std::size_t>(n));
    std::string out;
    std::size_t from = 0;
    for (auto nl = in.find('\n'); nl != std::string::npos; nl = in.find('\n', from)) {
      rapidjson::Document d;
      d.Parse(in.data() + from, nl - from);
      from = nl + 1;
      if (d.HasParseError()) continue;
      auto a = answer(d, session);
      if (!a.empty()) out += a + "\n";
    }
    in.erase(0, from);
    for (std::size_t at = 0; at < out.size();) {
      ssize_t w = ::write(1, out.data() + at, out.size() - at);
      if (w <= 0) return 1;
      at += static_cast<std::size_t>(w);
    }
  }
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--sse") == 0) g_sse = true;
    if (std::strcmp(argv[i], "--stdio") == 0) return serve_stdio();
  }
  asio::io_context io(1);
  tcp::acceptor a(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  a.listen(asio::socket_base::max_listen_connections);
  std::printf("http://127.0.0.1:%u/mcp\n", static_cast<unsigned>(a.local_endpoint().port()));
  std::fflush(stdout);
  accept(a);
  io.run();
}
