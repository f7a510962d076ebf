#include "transport/http_worker.hpp"
#include "transport/http_worker_sockets.hpp"

#include "util/base64.hpp"
#include "util/log.hpp"
#include "util/platform.hpp"
#include "util/text.hpp"

#include <curl/curl.h>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

namespace claribi::transport {
namespace {

/// What a body with a declared length gets beyond it, so that the members a 2026-07-28
/// client's answers gain (era::mark_complete) fit without copying the body.
constexpr std::size_t k_room_to_add = 256;

/// A call body up to this size goes out in the same write as the request's headers (libcurl
/// inlines POSTFIELDS up to 64 KiB); a larger one is read through on_read.
constexpr std::size_t k_with_the_head = 64 * 1024;

/// Event bytes a transfer may have parsed and posted to the io thread, not yet handled, before
/// it stops reading: libcurl reads as long as the socket has data, far faster than a client
/// takes the events, and what waits would otherwise grow with the whole stream. Reading goes
/// on when half of it has been handled. Each event is charged its data and what holding it
/// costs besides (its handler, its string's spare room).
constexpr std::size_t k_event_backlog = 256 * 1024;
constexpr std::size_t k_event_cost = 256;

}  // namespace

/// The events of one transfer posted and not yet handled, and whether its reading stopped
/// for them. The io thread alone touches it.
struct HttpWorker::Backlog {
  std::size_t bytes = 0;
  bool paused = false;
};

namespace {

struct GlobalInit {
  GlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

/// libcurl's cookie engine over a share handle. Every transfer runs on the io thread, so
/// the shared data needs no lock.
struct HttpWorker::CookieJar {
  CURLSH* share = curl_share_init();

  CookieJar() { curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE); }
  ~CookieJar() { curl_share_cleanup(share); }  // after every easy handle using it
};

/// Where an upload body stands: which part, the open file, encoded text not yet handed out.
struct UploadState {
  enum class Part { prefix, file, suffix, done };
  Part part = Part::prefix;
  std::size_t offset = 0;  ///< within prefix or suffix
  platform::InputFile file;
  std::uint64_t file_read = 0;
  std::uint64_t last_progress = 0;
  base64::StreamEncoder encoder;
  std::string pending;  ///< encoded, not yet copied to libcurl
  std::size_t pending_offset = 0;
  std::unique_ptr<char[]> piece;  ///< file bytes being encoded; freed with the transfer
  std::string error;

  ~UploadState() { close_file(); }
  void close_file() { file.close(); }
  void reset() {  // back to the first byte (libcurl rewinds); the piece buffer is kept
    close_file();
    part = Part::prefix;
    offset = 0;
    file_read = 0;
    last_progress = 0;
    encoder = base64::StreamEncoder();
    pending.clear();
    pending_offset = 0;
    error.clear();
  }
};

struct HttpWorker::Transfer {
  TransferId id = 0;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  HttpRequest request;
  HttpHandlers handlers;
  std::shared_ptr<bool> alive;
  HttpWorker* worker = nullptr;
  HttpHead head;
  bool head_sent = false;
  std::string body;
  bool too_large = false;
  std::unique_ptr<SseParser> sse;
  std::shared_ptr<Backlog> backlog = std::make_shared<Backlog>();
  std::unique_ptr<UploadState> upload;
  std::size_t body_offset = 0;  ///< a memory body read through on_read (at_most_once)
  std::uint64_t handed = 0;     ///< body bytes given to libcurl since the last rewind
  bool response_seen = false;   ///< a status line came back
  int attempts = 0;             ///< connections the request was about to go out on
  bool refused_resend = false;  ///< a rewind was refused: the whole body had gone out
  bool body_with_head = false;  ///< an at-most-once body sent as POSTFIELDS, whole
  char error[CURL_ERROR_SIZE] = {};

  std::uint64_t body_size() const {
    return request.upload ? request.upload->total() : request.body.size();
  }
  /// Back to the first body byte. False when the body must not go out again.
  bool rewind() {
    if (request.at_most_once && !response_seen && handed == body_size()) {
      refused_resend = true;
      return false;
    }
    if (upload) upload->reset();
    body_offset = 0;
    handed = 0;
    response_seen = false;  // the next leg (after a redirect) is judged on its own
    return true;
  }

  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (header_list != nullptr) curl_slist_free_all(header_list);
  }
};

HttpWorker::HttpWorker(asio::io_context& io, bool cookies)
    : m_io(io), m_timer(std::make_unique<Timer>(io)) {
  static GlobalInit init;
  m_multi = curl_multi_init();
  auto* multi = static_cast<CURLM*>(m_multi);
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Callbacks::socket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Callbacks::timer);
  curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
  if (cookies) m_cookies = std::make_unique<CookieJar>();
}

HttpWorker::~HttpWorker() {
  *m_running = false;
  auto* multi = static_cast<CURLM*>(m_multi);
  for (auto& [id, t] : m_live) curl_multi_remove_handle(multi, t->easy);
  m_live.clear();  // their easy handles go before the cookie jar they share
  curl_multi_cleanup(multi);
  for (auto& [fd, s] : m_sockets) {  // closed through Callbacks::close_socket; else libcurl's
    asio::error_code ignored;
    s->sock.release(ignored);
  }
  m_sockets.clear();
  m_timer->timer.cancel();
}

void HttpWorker::act(std::intptr_t socket, int events) {
  auto* multi = static_cast<CURLM*>(m_multi);
  int running = 0;
  curl_multi_socket_action(multi, static_cast<curl_socket_t>(socket), events, &running);
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* raw = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &raw);
    auto code = msg->data.result;
    curl_multi_remove_handle(multi, msg->easy_handle);
    finish(*raw, code);
    m_live.erase(raw->id);
  }
}

HttpWorker::TransferId HttpWorker::start(HttpRequest request, HttpHandlers handlers) {
  auto t = std::make_unique<Transfer>();
  t->id = m_next_id++;
  t->request = std::move(request);
  t->handlers = std::move(handlers);
  t->alive = std::make_shared<bool>(true);
  t->worker = this;
  m_alive.emplace(t->id, t->alive);

  CURL* e = curl_easy_init();
  t->easy = e;
  const auto& r = t->request;
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, r.allow_http_redirects ? "http,https" : "https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(e, CURLOPT_POSTREDIR, static_cast<long>(CURL_REDIR_POST_ALL));
  curl_easy_setopt(e, CURLOPT_USERAGENT, "claribi-bridge/" CLARIBI_VERSION);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &Callbacks::open_socket);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &Callbacks::close_socket);
  curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, this);
  // Over TLS the remote may speak HTTP/2: a request waits for a connection it can share
  // rather than open its own, so 64 calls in flight make one connection and one handshake.
  if (r.url.rfind("https://", 0) == 0) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  // JSON-RPC answers are small and 64 transfers may be in flight; a 4 KiB receive buffer
  // (libcurl defaults to 16 KiB each) keeps peak memory down at no measurable speed cost.
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r.connect_timeout_ms);
  if (r.timeout_ms > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r.timeout_ms);
  tls::apply(e, r.trust.get());
  if (m_cookies) {
    curl_easy_setopt(e, CURLOPT_SHARE, m_cookies->share);
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");  // the engine on, reading no file
  }
  if (r.method == "POST" && r.upload) {
    t->upload = std::make_unique<UploadState>();
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &HttpWorker::on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, t.get());
    curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, &HttpWorker::on_seek);
    curl_easy_setopt(e, CURLOPT_SEEKDATA, t.get());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.upload->total()));
    // Bigger pieces than the 64 KiB default: fewer callbacks and writes for megabytes.
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
  } else if (r.method == "POST" && r.at_most_once && r.body.size() <= k_with_the_head) {
    t->body_with_head = true;
    // Goes out with the headers in one write; on_prereq counts it handed as the request
    // leaves, so a second attempt must still pass Transfer::rewind.
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  } else if (r.method == "POST" && r.at_most_once) {
    // Read through a callback, so that libcurl must ask before it sends the body again, and
    // a body cut short is known to be: the remote cannot have run what it did not get whole.
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &HttpWorker::on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, t.get());
    curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, &HttpWorker::on_seek);
    curl_easy_setopt(e, CURLOPT_SEEKDATA, t.get());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  } else if (r.method == "POST") {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  } else if (r.method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  for (const auto& h : r.headers) t->header_list = curl_slist_append(t->header_list, h.c_str());
  // libcurl adds "Expect: 100-continue" to large POSTs, costing a round trip.
  t->header_list = curl_slist_append(t->header_list, "Expect:");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpWorker::on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &HttpWorker::on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  // A proxy's "200 Connection established" is no answer from the server.
  curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  if (r.at_most_once) {
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, &HttpWorker::on_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, t.get());
  }

  auto id = t->id;
  // libcurl asks for its timeout at once (timer callback, 0 ms), which starts the transfer.
  curl_multi_add_handle(static_cast<CURLM*>(m_multi), e);
  m_live.emplace(id, std::move(t));
  if (m_live.size() > m_peak) {
    // libcurl keeps four connections per transfer under way by default, counted when one
    // is handed back: as a burst drains, that falls to a handful, and the connections the
    // next burst needs are closed (each a new TCP and TLS handshake later). Keep what the
    // busiest moment needed; idle ones still close after libcurl's maximum idle age.
    m_peak = m_live.size();
    curl_multi_setopt(static_cast<CURLM*>(m_multi), CURLMOPT_MAXCONNECTS,
                      static_cast<long>(std::max<std::size_t>(4 * m_peak, 16)));
  }
  return id;
}

void HttpWorker::hold_events(bool hold) {
  m_hold = hold;
  if (hold) return;  // each stream pauses at its next read
  std::vector<TransferId> paused;
  for (const auto& [id, t] : m_live) {
    if (t->backlog->paused && t->backlog->bytes <= k_event_backlog / 2) paused.push_back(id);
  }
  for (auto id : paused) resume(id);
}

void HttpWorker::resume(TransferId id) {
  if (m_hold) return;  // hold_events(false) resumes it
  auto live = m_live.find(id);
  if (live == m_live.end()) return;
  live->second->backlog->paused = false;
  // Hands back what it kept (on_write, which may pause again) and asks for its timeout.
  curl_easy_pause(live->second->easy, CURLPAUSE_CONT);
}

void HttpWorker::cancel(TransferId id) {
  auto it = m_alive.find(id);
  if (it == m_alive.end()) return;
  *it->second = false;
  m_alive.erase(it);
  auto live = m_live.find(id);
  if (live == m_live.end()) return;  // it ended; its completion, posted, will not run
  curl_multi_remove_handle(static_cast<CURLM*>(m_multi), live->second->easy);
  m_live.erase(live);
}

std::size_t HttpWorker::on_header(char* data, std::size_t size, std::size_t n, void* self) {
  auto* t = static_cast<Transfer*>(self);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    // A final status line (not 100 Continue): the server took the request and answers.
    auto sp = line.find(' ');
    if (sp != std::string_view::npos && sp + 1 < line.size() && line[sp + 1] >= '2') {
      t->response_seen = true;
    }
    t->head.headers.clear();  // a new response (after a redirect or 100-continue)
    return size * n;
  }
  if (line == "\r\n" || line == "\n") {
    // The head is whole: its handler runs now, not at the first byte of a body that may
    // be long in coming (a GET stream with nothing to say yet). Not for an interim answer,
    // nor for a redirect libcurl is about to follow; those end the way they did.
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    bool followed = status / 100 == 3 && !t->head.header("location").empty();
    if (status >= 200 && !followed) t->worker->deliver_head(*t);
    return size * n;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->head.headers.push_back(Header{std::string(text::trim(line.substr(0, colon))),
                                     std::string(text::trim(line.substr(colon + 1)))});
  }
  return size * n;
}

void HttpWorker::deliver_head(Transfer& t) {
  if (t.head_sent) return;
  t.head_sent = true;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &t.head.status);
  std::string ct = text::lower(t.head.header("content-type"));
  t.head.content_type = std::string(text::trim(ct.substr(0, ct.find(';'))));
  if (t.head.is_event_stream() && t.head.status / 100 == 2) {
    auto alive = t.alive;
    auto on_event = t.handlers.on_event;
    auto on_retry = t.handlers.on_retry;
    auto* io = &m_io;
    auto backlog = t.backlog;
    auto id = t.id;
    std::weak_ptr<bool> running = m_running;
    t.sse = std::make_unique<SseParser>(
        SseParser::Sink{[this, alive, on_event, backlog, id, running](SseEvent&& ev) {
                          std::size_t size = ev.data.size() + k_event_cost;
                          backlog->bytes += size;
                          asio::post(m_io, [this, alive, on_event, backlog, id, running, size,
                                            ev = std::move(ev)]() mutable {
                            if (*alive && on_event) on_event(std::move(ev));
                            backlog->bytes -= size;
                            auto worker = running.lock();
                            if (backlog->paused && backlog->bytes <= k_event_backlog / 2 &&
                                *alive && worker && *worker) {
                              resume(id);
                            }
                          });
                        },
                        [alive, on_retry, io](long ms) {
                          asio::post(*io, [alive, on_retry, ms] {
                            if (*alive && on_retry) on_retry(ms);
                          });
                        }},
        t.request.max_body);
  }
  asio::post(m_io, [alive = t.alive, fn = t.handlers.on_head, head = t.head] {
    if (*alive && fn) fn(head);
  });
}

int HttpWorker::on_seek(void* self, std::int64_t offset, int origin) {
  auto* t = static_cast<Transfer*>(self);
  // libcurl rewinds to resend the whole body (a redirect, a retried connection).
  if (offset != 0 || origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
  return t->rewind() ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
}

int HttpWorker::on_prereq(void* self, char*, char*, int, int) {
  auto* t = static_cast<Transfer*>(self);
  // A second attempt without a rewind: libcurl retries a reused connection that died before
  // any body byte was written, but bytes handed to it may have been lost in its buffer.
  if (++t->attempts > 1 && t->handed > 0 && !t->rewind()) return CURL_PREREQFUNC_ABORT;
  // A body given as POSTFIELDS leaves with the request, whole.
  if (t->body_with_head) t->handed = t->body_size();
  return CURL_PREREQFUNC_OK;
}

std::size_t HttpWorker::on_read(char* buffer, std::size_t size, std::size_t n, void* self) {
  auto* t = static_cast<Transfer*>(self);
  if (!t->upload) {  // a memory body
    const std::string& body = t->request.body.str();
    std::size_t k = std::min(size * n, body.size() - t->body_offset);
    std::memcpy(buffer, body.data() + t->body_offset, k);
    t->body_offset += k;
    t->handed += k;
    return k;
  }
  std::size_t given = read_upload(*t, buffer, size * n);
  if (given != CURL_READFUNC_ABORT) t->handed += given;
  return given;
}

std::size_t HttpWorker::read_upload(Transfer& transfer, char* buffer, std::size_t room) {
  auto* t = &transfer;
  auto& u = *t->upload;
  const auto& body = *t->request.upload;
  std::size_t given = 0;
  auto give = [&](const char* data, std::size_t len) {
    std::size_t k = std::min(len, room - given);
    std::memcpy(buffer + given, data, k);
    given += k;
    return k;
  };
  while (given < room && u.part != UploadState::Part::done) {
    if (u.pending_offset < u.pending.size()) {
      u.pending_offset +=
          give(u.pending.data() + u.pending_offset, u.pending.size() - u.pending_offset);
      continue;
    }
    if (u.part == UploadState::Part::prefix) {
      u.offset += give(body.prefix.data() + u.offset, body.prefix.size() - u.offset);
      if (u.offset == body.prefix.size()) {
        u.part = UploadState::Part::file;
        u.offset = 0;
      }
    } else if (u.part == UploadState::Part::file) {
      if (!u.file.is_open()) {
        auto info = u.file.open(body.path) ? u.file.info() : fail("not opened");
        if (!info || info->kind != platform::FileInfo::Kind::regular ||
            info->device != body.device || info->inode != body.inode) {
          u.error = "the file " + body.path + " was replaced or removed before it could be sent";
          return CURL_READFUNC_ABORT;
        }
      }
      constexpr std::size_t k_piece = 144 * 1024;  // a multiple of 3: 192 KiB of base64
      if (!u.piece) u.piece = std::make_unique<char[]>(k_piece);
      char* chunk = u.piece.get();
      long got = u.file.read(chunk, k_piece);
      if (got < 0) {
        u.error = "reading " + body.path + " failed: " + u.file.last_error();
        return CURL_READFUNC_ABORT;
      }
      u.pending.clear();
      u.pending_offset = 0;
      if (got > 0) {
        u.file_read += static_cast<std::uint64_t>(got);
        if (u.file_read > body.file_size) {
          u.error = "the file " + body.path + " grew while it was being sent";
          return CURL_READFUNC_ABORT;
        }
        u.encoder.feed(chunk, static_cast<std::size_t>(got), u.pending);
      } else {
        if (u.file_read != body.file_size) {
          u.error = "the file " + body.path + " shrank while it was being sent";
          return CURL_READFUNC_ABORT;
        }
        u.encoder.finish(u.pending);
        u.close_file();
        u.part = UploadState::Part::suffix;
      }
      // Every 256 KiB, and once at the end; never the same figure twice.
      bool due = got > 0 ? u.file_read - u.last_progress >= (256u << 10)
                         : u.file_read != u.last_progress || u.file_read == 0;
      if (t->handlers.on_upload_progress && due) {
        u.last_progress = u.file_read;
        asio::post(t->worker->m_io, [alive = t->alive, fn = t->handlers.on_upload_progress,
                                     sent = u.file_read, total = body.file_size] {
          if (*alive) fn(sent, total);
        });
      }
    } else if (u.part == UploadState::Part::suffix) {
      u.offset += give(body.suffix.data() + u.offset, body.suffix.size() - u.offset);
      if (u.offset == body.suffix.size()) u.part = UploadState::Part::done;
    }
  }
  return given;
}

std::size_t HttpWorker::on_write(char* data, std::size_t size, std::size_t n, void* self) {
  auto* t = static_cast<Transfer*>(self);
  std::size_t len = size * n;
  t->worker->deliver_head(*t);
  if (t->sse && (t->backlog->bytes > k_event_backlog || t->worker->m_hold)) {
    // libcurl keeps this data and stops reading until resume(); the events already posted
    // are handled first.
    t->backlog->paused = true;
    return CURL_WRITEFUNC_PAUSE;
  }
  if (t->sse) {
    if (!t->sse->feed(std::string_view(data, len))) {
      t->too_large = true;
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    return len;
  }
  if (t->body.empty()) {
    // A declared length over the limit is refused before any of it is kept; one within it
    // is reserved at once instead of growing the buffer by doubling.
    curl_off_t declared = -1;
    curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &declared);
    if (declared > static_cast<curl_off_t>(t->request.max_body)) {
      t->too_large = true;
      return 0;
    }
    // A few bytes more: room for the members the bridge may add to an answer in place.
    if (declared > 0) t->body.reserve(static_cast<std::size_t>(declared) + k_room_to_add);
  }
  if (t->body.size() + len > t->request.max_body) {
    t->too_large = true;
    return 0;
  }
  if (t->body.size() + len > t->body.capacity()) {  // grow by doubling, never past the limit
    t->body.reserve(
        std::min(std::max(t->body.capacity() * 2, t->body.size() + len), t->request.max_body));
  }
  t->body.append(data, len);
  return len;
}

void HttpWorker::finish(Transfer& t, int curl_code) {
  deliver_head(t);
  HttpDone done;
  done.ok = curl_code == CURLE_OK;
  done.too_large = t.too_large;
  if (!done.ok) {
    done.error = t.error[0] != '\0'
                     ? std::string(t.error)
                     : std::string(curl_easy_strerror(static_cast<CURLcode>(curl_code)));
  }
  if (!done.ok && t.upload && !t.upload->error.empty()) done.error = t.upload->error;
  done.maybe_delivered = !done.ok && t.request.at_most_once && !t.response_seen &&
                         (t.refused_resend || t.handed == t.body_size());
  done.body = std::move(t.body);
  asio::post(m_io, [alive = t.alive, fn = t.handlers.on_done, id = t.id, this,
                    done = std::move(done)]() mutable {
    if (!*alive) return;
    m_alive.erase(id);
    if (fn) fn(std::move(done));
  });
}

}  // namespace claribi::transport
