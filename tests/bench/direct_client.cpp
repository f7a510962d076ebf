// The native baseline of scripts/bench (not a test): an MCP client over streamable HTTP in
// libcurl, sending what the bridge's client sends (keep-alive, the same Accept and
// Content-Type, Mcp-Session-Id and MCP-Protocol-Version after initialize, then
// notifications/initialized). Answers may be JSON or SSE-framed. Prints one JSON line.
//
//   direct_client URL [--starts S] [--calls N] [--inflight K] [--throughput-calls M]
//                 [--blob BYTES] [--blob-calls R] [--http1.1 | --http2] [--ca-file PEM]
//                 [--ca-path DIR]
//
// start: S initialize round trips on a new handle each (cold: connect and TLS included) and
// S on a kept connection (warm), medians. Then N sequential tools/call echo (p50/p99 in µs),
// then M calls with K in flight over the multi interface (throughput, p50/p99), then R
// tools/call blob of BYTES (median ms). `connects` sums CURLINFO_NUM_CONNECTS: connections
// opened, so TLS handshakes when the URL is https.
#include "bench_common.hpp"

#include <curl/curl.h>

#include <memory>
#include <string>
#include <vector>

namespace {

struct Options {
  std::string url, ca_file, ca_path;
  long starts, calls, inflight, throughput_calls, blob, blob_calls, http;
};

/// One transfer's handle, request and answer; reused from call to call.
struct Call {
  CURL* easy = curl_easy_init();
  curl_slist* headers = nullptr;
  std::string body, answer, session, type;
  double t0 = 0;
  ~Call() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(easy);
  }
};

long g_connects = 0;
std::string g_session, g_version;

size_t on_body(char* p, size_t size, size_t n, void* call) {
  static_cast<Call*>(call)->answer.append(p, size * n);
  return size * n;
}

size_t on_header(char* p, size_t size, size_t n, void* call) {
  std::string line(p, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of("\r\n ") + 1);
    if (name == "mcp-session-id") static_cast<Call*>(call)->session = value;
    if (name == "content-type") static_cast<Call*>(call)->type = value;
  }
  return size * n;
}

void prepare(Call& c, const Options& o, const std::string& body, bool multiplexed) {
  CURL* e = c.easy;
  c.body = body;
  c.answer.clear();
  c.type.clear();
  curl_slist_free_all(c.headers);
  c.headers = curl_slist_append(nullptr, "Accept: application/json, text/event-stream");
  c.headers = curl_slist_append(c.headers, "Content-Type: application/json");
  if (!g_session.empty()) {
    c.headers = curl_slist_append(c.headers, ("Mcp-Session-Id: " + g_session).c_str());
    c.headers = curl_slist_append(c.headers, ("MCP-Protocol-Version: " + g_version).c_str());
  }
  curl_easy_setopt(e, CURLOPT_URL, o.url.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "claribi-bench-direct/1");
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, c.body.data());
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(c.body.size()));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, c.headers);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &c);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &c);
  curl_easy_setopt(e, CURLOPT_PRIVATE, &c);
  if (o.http == 11) curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  if (o.http == 2) curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  if (!o.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, o.ca_file.c_str());
  // As the bridge does: no folder but the one asked for, so that libcurl keeps the CA store
  // it built from a file alone for later connections.
  if (!o.ca_path.empty() || !o.ca_file.empty()) {
    curl_easy_setopt(e, CURLOPT_CAPATH, o.ca_path.empty() ? nullptr : o.ca_path.c_str());
  }
  if (multiplexed) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
}

/// The JSON-RPC answer in a JSON or SSE body: for SSE, the data of the last event naming an id.
std::string message_of(const Call& c) {
  if (c.type.rfind("text/event-stream", 0) != 0) return c.answer;
  std::string found, data;
  std::size_t at = 0;
  while (at < c.answer.size()) {
    auto end = c.answer.find('\n', at);
    if (end == std::string::npos) end = c.answer.size();
    std::string_view line(c.answer.data() + at, end - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.rfind("data:", 0) == 0) {
      line.remove_prefix(line.size() > 5 && line[5] == ' ' ? 6 : 5);
      data.append(line.data(), line.size());
    } else if (line.empty() && !data.empty()) {
      if (data.find("\"id\"") != std::string::npos) found = std::move(data);
      data.clear();
    }
    at = end + 1;
  }
  return found;
}

/// Counts connections, checks the status and that a result came, for every finished call.
bool finished(Call& c, bool expect_result) {
  long status = 0, connects = 0;
  curl_easy_getinfo(c.easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(c.easy, CURLINFO_NUM_CONNECTS, &connects);
  g_connects += connects;
  if (!expect_result) return status / 100 == 2;
  auto m = message_of(c);
  if (status != 200 || m.find("\"result\"") == std::string::npos) {
    std::fprintf(stderr, "direct_client: HTTP %ld: %.300s\n", status, c.answer.c_str());
    return false;
  }
  return true;
}

bool perform(Call& c, const Options& o, const std::string& body, bool expect_result = true) {
  prepare(c, o, body, false);
  CURLcode rc = curl_easy_perform(c.easy);
  if (rc != CURLE_OK) {
    std::fprintf(stderr, "direct_client: %s\n", curl_easy_strerror(rc));
    return false;
  }
  return finished(c, expect_result);
}

std::string initialize(long id) {
  return bench::initialize(id, "claribi-bench-direct");
}
using bench::blob;
using bench::echo;

/// M calls, K in flight over one multi handle: latencies in µs, throughput in calls/s.
bool in_flight(const Options& o, long& id, std::vector<double>& lat, double& per_s, long& conns) {
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  std::vector<std::unique_ptr<Call>> calls;
  long started = 0, before = g_connects;
  auto start = [&](Call& c) {
    prepare(c, o, echo(++id), true);
    c.t0 = bench::now_us();
    curl_multi_add_handle(multi, c.easy);
    ++started;
  };
  double t0 = bench::now_us();
  for (long i = 0; i < o.inflight && started < o.throughput_calls; ++i) {
    calls.push_back(std::make_unique<Call>());
    start(*calls.back());
  }
  int running = 1;
  bool ok = true;
  while (ok && (running > 0 || started < o.throughput_calls)) {
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      Call* c = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &c);
      CURLcode rc = m->data.result;
      curl_multi_remove_handle(multi, c->easy);
      lat.push_back(bench::now_us() - c->t0);
      if (rc != CURLE_OK) {
        std::fprintf(stderr, "direct_client: %s\n", curl_easy_strerror(rc));
        ok = false;
      } else if (!finished(*c, true)) {
        ok = false;
      } else if (started < o.throughput_calls) {
        start(*c);
        running = 1;
      }
    }
    if (running > 0) curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  per_s = static_cast<double>(lat.size()) / ((bench::now_us() - t0) / 1e6);
  conns = g_connects - before;
  calls.clear();
  curl_multi_cleanup(multi);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: direct_client URL [options]; see the source\n");
    return 2;
  }
  Options o{argv[1],
            bench::arg(argc, argv, "--ca-file", ""),
            bench::arg(argc, argv, "--ca-path", ""),
            bench::num(argc, argv, "--starts", 9),
            bench::num(argc, argv, "--calls", 1000),
            bench::num(argc, argv, "--inflight", 64),
            bench::num(argc, argv, "--throughput-calls", 4000),
            bench::num(argc, argv, "--blob", 0),
            bench::num(argc, argv, "--blob-calls", 5),
            bench::flag(argc, argv, "--http1.1") ? 11L
            : bench::flag(argc, argv, "--http2") ? 2L
                                                 : 0L};
  curl_global_init(CURL_GLOBAL_DEFAULT);
  bench::Json out;
  long id = 0;
  std::vector<double> cold, warm, connect_ms, tls_ms;
  auto main_call = std::make_unique<Call>();
  for (long i = 0; i < std::max(1L, o.starts); ++i) {
    Call fresh;  // a handle of its own: its own connection, a full TLS handshake
    double t0 = bench::now_us();
    if (!perform(fresh, o, initialize(++id))) return 1;
    cold.push_back((bench::now_us() - t0) / 1000);
    curl_off_t tcp = 0, tls = 0;
    curl_easy_getinfo(fresh.easy, CURLINFO_CONNECT_TIME_T, &tcp);
    curl_easy_getinfo(fresh.easy, CURLINFO_APPCONNECT_TIME_T, &tls);
    connect_ms.push_back(static_cast<double>(tcp) / 1000);
    tls_ms.push_back(tls > 0 ? static_cast<double>(tls - tcp) / 1000 : 0.0);
  }
  for (long i = 0; i < std::max(1L, o.starts); ++i) {
    double t0 = bench::now_us();
    if (!perform(*main_call, o, initialize(++id))) return 1;
    warm.push_back((bench::now_us() - t0) / 1000);
  }
  g_session = main_call->session;
  auto init = message_of(*main_call);
  auto v = init.find("\"protocolVersion\":\"");
  g_version =
      v == std::string::npos ? "2025-03-26" : init.substr(v + 19, init.find('"', v + 19) - v - 19);
  if (!perform(*main_call, o, R"({"jsonrpc":"2.0","method":"notifications/initialized"})", false)) {
    return 1;
  }
  out.field("start_cold_ms", bench::quantile(cold, 0.5))
      .field("start_warm_ms", bench::quantile(warm, 0.5))
      .field("connect_ms", bench::quantile(connect_ms, 0.5))
      .field("tls_handshake_ms", bench::quantile(tls_ms, 0.5))
      .text("protocol_version", g_version);
  if (o.calls > 0) {
    for (int i = 0; i < 100; ++i) {
      if (!perform(*main_call, o, echo(++id))) return 1;
    }
    std::vector<double> lat;
    for (long i = 0; i < o.calls; ++i) {
      double t0 = bench::now_us();
      if (!perform(*main_call, o, echo(++id))) return 1;
      lat.push_back(bench::now_us() - t0);
    }
    out.raw("sequential", bench::latency(lat).str());
  }
  if (o.throughput_calls > 0) {
    std::vector<double> lat;
    double per_s = 0;
    long conns = 0;
    if (!in_flight(o, id, lat, per_s, conns)) return 1;
    out.raw("inflight", bench::latency(lat)
                            .field("k", o.inflight)
                            .field("calls_per_s", per_s)
                            .field("connects", conns)
                            .str());
  }
  if (o.blob > 0) {
    std::vector<double> ms;
    for (long i = 0; i < o.blob_calls; ++i) {
      double t0 = bench::now_us();
      if (!perform(*main_call, o, blob(++id, o.blob))) return 1;
      ms.push_back((bench::now_us() - t0) / 1000);
    }
    out.raw("blob", bench::Json()
                        .field("bytes", o.blob)
                        .field("calls", o.blob_calls)
                        .field("median_ms", bench::quantile(ms, 0.5))
                        .field("answer_bytes", static_cast<long>(main_call->answer.size()))
                        .str());
  }
  long version = 0;
  curl_easy_getinfo(main_call->easy, CURLINFO_HTTP_VERSION, &version);
  out.text("http", version == CURL_HTTP_VERSION_2_0 ? "2"
                   : version == CURL_HTTP_VERSION_3 ? "3"
                                                    : "1.1")
      .field("connects", g_connects);
  std::printf("%s\n", out.str().c_str());
  main_call.reset();
  curl_global_cleanup();
  return 0;
}
