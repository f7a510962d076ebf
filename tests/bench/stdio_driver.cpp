// Drives a stdio MCP server (the bridge) for scripts/bench (not a test), as lightly as the
// native direct client: newline-delimited JSON-RPC on the child's stdin and stdout, no JSON
// parsing beyond finding each answer's id. Prints one JSON line.
//
//   stdio_driver [--starts S] [--calls N] [--inflight K] [--throughput-calls M]
//                [--blob BYTES] [--blob-calls R] [--notifications N] -- COMMAND [ARGS...]
//
// start: spawn → initialize answered, median of S spawns. Then one child: initialize,
// notifications/initialized, N sequential tools/call echo (p50/p99 in µs), M calls with K in
// flight (throughput, p50/p99), R tools/call blob of BYTES (median ms), or, with
// --notifications, N notifications/message read from it and the CPU time it spent meanwhile.
// The child's peak RSS is VmHWM read from /proc before its stdin closes (wait4's ru_maxrss
// after it exits, too), its CPU time from wait4.
#include "bench_common.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

extern char** environ;

namespace {

class Child {
 public:
  explicit Child(char** argv) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) std::abort();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    for (int fd : {in[0], in[1], out[0], out[1]}) posix_spawn_file_actions_addclose(&fa, fd);
    if (posix_spawnp(&m_pid, argv[0], &fa, nullptr, argv, environ) != 0) {
      std::perror("stdio_driver: spawn");
      std::exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    m_in = in[1];
    m_out = out[0];
  }
  ~Child() { finish(); }

  void send(const std::string& line) {
    std::string all = line + "\n";
    for (std::size_t at = 0; at < all.size();) {
      ssize_t n = write(m_in, all.data() + at, all.size() - at);
      if (n < 0 && errno == EAGAIN) {
        pollfd p{m_in, POLLOUT, 0};
        poll(&p, 1, -1);
        continue;
      }
      if (n <= 0) fail("writing to the child failed");
      at += static_cast<std::size_t>(n);
    }
  }

  /// The next whole line, waiting for it.
  std::string line() {
    for (;;) {
      auto nl = m_buf.find('\n', m_from);
      if (nl != std::string::npos) {
        std::string l = m_buf.substr(m_from, nl - m_from);
        m_from = nl + 1;
        if (m_from > (1u << 20) || m_from == m_buf.size()) {
          m_buf.erase(0, m_from);
          m_from = 0;
        }
        return l;
      }
      fill(-1);
    }
  }
  /// Reads what the child has written (waiting up to `ms`); false on nothing.
  bool fill(int ms) {
    pollfd p{m_out, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return false;
    char chunk[256 * 1024];
    ssize_t n = read(m_out, chunk, sizeof chunk);
    if (n <= 0) fail("the child closed its stdout");
    m_buf.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
  bool has_line() const { return m_buf.find('\n', m_from) != std::string::npos; }
  int in_fd() const { return m_in; }
  int out_fd() const { return m_out; }

  /// The answer to `id`, skipping notifications and other answers (counted).
  std::string answer(long id) {
    for (;;) {
      auto l = line();
      if (id_of(l) == id) return l;
      if (l.find("\"method\"") != std::string::npos) ++notifications;
    }
  }

  long proc_status_kb(const char* field) const {
    std::ifstream f("/proc/" + std::to_string(m_pid) + "/status");
    std::string key;
    long value = -1;
    for (std::string l; std::getline(f, l);) {
      if (l.rfind(field, 0) == 0) std::istringstream(l.substr(std::strlen(field))) >> value;
    }
    return value;
  }
  /// utime + stime of every thread, in ms (clock ticks).
  double cpu_ms() const {
    std::ifstream f("/proc/" + std::to_string(m_pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::istringstream rest(all.substr(all.rfind(')') + 2));
    std::string skip;
    for (int i = 0; i < 11; ++i) rest >> skip;  // fields 3..13
    double utime = 0, stime = 0;
    rest >> utime >> stime;
    return (utime + stime) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  }

  /// Closes stdin, waits for the exit (SIGTERM after 5 s); its resource use.
  rusage finish() {
    rusage ru{};
    if (m_pid <= 0) return ru;
    close(m_in);
    int status = 0;
    for (int i = 0; i < 500; ++i) {
      if (wait4(m_pid, &status, WNOHANG, &ru) == m_pid) break;
      if (i == 499) {
        kill(m_pid, SIGTERM);
        wait4(m_pid, &status, 0, &ru);
      }
      usleep(10000);
    }
    close(m_out);
    m_pid = -1;
    return ru;
  }

  static long id_of(const std::string& l) {
    auto at = l.find("\"id\":");
    if (at == std::string::npos) return -1;
    return std::strtol(l.c_str() + at + 5, nullptr, 10);
  }
  [[noreturn]] static void fail(const char* why) {
    std::fprintf(stderr, "stdio_driver: %s\n", why);
    std::exit(1);
  }

  long notifications = 0;

 private:
  pid_t m_pid = -1;
  int m_in = -1, m_out = -1;
  std::string m_buf;
  std::size_t m_from = 0;
};

std::string initialize(long id) {
  return bench::initialize(id, "claribi-bench-driver");
}
using bench::blob;
using bench::echo;

void check(const std::string& answer) {
  if (answer.find("\"result\"") == std::string::npos) {
    std::fprintf(stderr, "stdio_driver: not a result: %.300s\n", answer.c_str());
    std::exit(1);
  }
}

/// M echo calls with K in flight: the child's stdin non-blocking, written as it drains.
void in_flight(Child& c, long& id, long k, long m, std::vector<double>& lat, double& per_s) {
  fcntl(c.in_fd(), F_SETFL, fcntl(c.in_fd(), F_GETFL) | O_NONBLOCK);
  std::unordered_map<long, double> sent;
  std::string out;
  std::size_t out_at = 0;
  long started = 0;
  double t0 = bench::now_us();
  while (static_cast<long>(lat.size()) < m) {
    while (static_cast<long>(sent.size()) < k && started < m) {
      out += echo(++id) + "\n";
      sent[id] = bench::now_us();
      ++started;
    }
    while (c.has_line()) {
      auto l = c.line();
      auto it = sent.find(Child::id_of(l));
      if (it == sent.end()) continue;
      check(l);
      lat.push_back(bench::now_us() - it->second);
      sent.erase(it);
    }
    if (static_cast<long>(lat.size()) >= m) break;
    if (static_cast<long>(sent.size()) < k && started < m) continue;
    pollfd p[2] = {{c.out_fd(), POLLIN, 0}, {c.in_fd(), POLLOUT, 0}};
    poll(p, out_at < out.size() ? 2 : 1, -1);
    if (p[0].revents != 0) c.fill(0);
    if (out_at < out.size() && p[1].revents != 0) {
      ssize_t n = write(c.in_fd(), out.data() + out_at, out.size() - out_at);
      if (n > 0) out_at += static_cast<std::size_t>(n);
      if (out_at == out.size()) out.clear(), out_at = 0;
    }
  }
  per_s = static_cast<double>(m) / ((bench::now_us() - t0) / 1e6);
  fcntl(c.in_fd(), F_SETFL, fcntl(c.in_fd(), F_GETFL) & ~O_NONBLOCK);
}

}  // namespace

int main(int argc, char** argv) {
  int cmd = 1;
  while (cmd < argc && std::strcmp(argv[cmd], "--") != 0) ++cmd;
  if (cmd + 1 >= argc) {
    std::fprintf(stderr, "usage: stdio_driver [options] -- COMMAND [ARGS...]; see the source\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  char** child_argv = argv + cmd + 1;
  long starts = bench::num(cmd, argv, "--starts", 9),
       calls = bench::num(cmd, argv, "--calls", 1000);
  long k = bench::num(cmd, argv, "--inflight", 64);
  long m = bench::num(cmd, argv, "--throughput-calls", 4000);
  long blob_bytes = bench::num(cmd, argv, "--blob", 0);
  long blob_calls = bench::num(cmd, argv, "--blob-calls", 5);
  long notifications = bench::num(cmd, argv, "--notifications", 0);
  bench::Json out;
  long id = 0;

  std::vector<double> start_ms;
  for (long i = 0; i < starts; ++i) {
    double t0 = bench::now_us();
    Child c(child_argv);
    c.send(initialize(++id));
    check(c.answer(id));
    start_ms.push_back((bench::now_us() - t0) / 1000);
  }
  if (starts > 0) out.field("start_ms", bench::quantile(start_ms, 0.5));

  Child c(child_argv);
  c.send(initialize(++id));
  check(c.answer(id));
  double cpu0 = c.cpu_ms();
  c.send(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  if (notifications > 0) {
    double t0 = bench::now_us();
    while (c.notifications < notifications) {
      if (c.line().find("\"method\"") != std::string::npos) ++c.notifications;
    }
    double cpu = c.cpu_ms() - cpu0, wall = (bench::now_us() - t0) / 1000;
    out.raw("notifications",
            bench::Json()
                .field("n", c.notifications)
                .field("wall_ms", wall)
                .field("cpu_ms", cpu)
                .field("cpu_us_per_message", cpu * 1000 / static_cast<double>(notifications))
                .str());
  }
  if (calls > 0) {
    for (int i = 0; i < 100; ++i) {
      c.send(echo(++id));
      check(c.answer(id));
    }
    std::vector<double> lat;
    for (long i = 0; i < calls; ++i) {
      double t0 = bench::now_us();
      c.send(echo(++id));
      auto a = c.answer(id);
      lat.push_back(bench::now_us() - t0);
      check(a);
    }
    out.raw("sequential", bench::latency(lat).str());
  }
  if (m > 0) {
    std::vector<double> lat;
    double per_s = 0;
    in_flight(c, id, k, m, lat, per_s);
    out.raw("inflight", bench::latency(lat).field("k", k).field("calls_per_s", per_s).str());
  }
  if (blob_bytes > 0) {
    std::vector<double> ms;
    std::size_t size = 0;
    for (long i = 0; i < blob_calls; ++i) {
      double t0 = bench::now_us();
      c.send(blob(++id, blob_bytes));
      auto a = c.answer(id);
      ms.push_back((bench::now_us() - t0) / 1000);
      check(a);
      size = a.size();
    }
    out.raw("blob", bench::Json()
                        .field("bytes", blob_bytes)
                        .field("calls", blob_calls)
                        .field("median_ms", bench::quantile(ms, 0.5))
                        .field("answer_bytes", static_cast<long>(size))
                        .str());
  }
  long hwm = c.proc_status_kb("VmHWM:");
  rusage ru = c.finish();
  auto ms = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1000 + static_cast<double>(t.tv_usec) / 1000;
  };
  out.field("peak_rss_mib", static_cast<double>(hwm) / 1024)
      .field("maxrss_mib", static_cast<double>(ru.ru_maxrss) / 1024)
      .field("cpu_ms", ms(ru.ru_utime) + ms(ru.ru_stime));
  std::printf("%s\n", out.str().c_str());
  return 0;
}
