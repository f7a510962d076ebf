#include "daemon/stdout_writer.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using claribi::daemon::StdoutWriter;

TEST_CASE("stdout writer puts every line, whole and in order, each followed by a newline") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  // Non-blocking, as some clients leave stdout: writes then go out in part and hit EAGAIN.
  REQUIRE(::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) | O_NONBLOCK) == 0);
  std::string got;
  // The pipe holds 64 KiB: a 3 MiB line is written in part, mid-piece, many times.
  std::thread reader([&] {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
  });
  std::string big(3u << 20, 'x');
  std::string expected;
  {
    StdoutWriter out(fds[1]);
    for (int i = 0; i < 1000; ++i) {
      std::string line = "{\"n\":" + std::to_string(i) + "}";
      expected += line + "\n";
      out.write_line(std::move(line));
      if (i == 500) {
        expected += big + "\n";
        out.write_line(big);
      }
    }
    out.close();
    CHECK(out.healthy());
  }
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  CHECK(got.size() == expected.size());
  CHECK(got == expected);
}

namespace {
/// The process's threads (Linux's /proc), or -1 where that cannot be read.
long threads() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Threads:", 0) == 0) return std::stol(line.substr(8));
  }
  return -1;
}
}  // namespace

TEST_CASE("stdout writer puts a short line out at once, and never ahead of a queued one") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  long before = threads();
  StdoutWriter out(fds[1]);
  // Nothing queued and room in the pipe: the line is there when write_line returns, and no
  // thread was needed for it.
  out.write_line("{\"n\":1}");
  CHECK(out.direct_writes() == 1);
  CHECK(threads() == before);
  REQUIRE(::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK) == 0);
  char buf[64];
  ssize_t n = ::read(fds[0], buf, sizeof buf);
  REQUIRE(n == 8);
  CHECK(std::string(buf, 8) == "{\"n\":1}\n");
  // A line longer than an atomic pipe write goes through the thread, which blocks on the
  // full pipe: a short line written meanwhile must wait behind it.
  std::string big(256u << 10, 'x');
  out.write_line(big);
  if (before != -1) CHECK(threads() == before + 1);  // the first line that has to wait
  out.write_line("{\"n\":2}");
  out.write_line("{\"n\":3}");
  CHECK(out.direct_writes() == 1);
  std::string got;
  std::thread reader([&] {
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) & ~O_NONBLOCK);
    char chunk[4096];
    for (;;) {
      ssize_t r = ::read(fds[0], chunk, sizeof chunk);
      if (r <= 0) break;
      got.append(chunk, static_cast<std::size_t>(r));
    }
  });
  out.close();
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  CHECK(got == big + "\n{\"n\":2}\n{\"n\":3}\n");
  CHECK(out.healthy());
}

TEST_CASE("stdout writer reports a reader gone on a line written at once") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[0]);
  std::signal(SIGPIPE, SIG_IGN);  // as platform::prepare_stdio does in the bridge
  StdoutWriter out(fds[1]);
  std::string why;
  out.on_broken([&](std::string w) { why = std::move(w); });
  out.write_line("{}");
  out.close();
  CHECK_FALSE(out.healthy());
  CHECK_FALSE(why.empty());
  ::close(fds[1]);
}

TEST_CASE("stdout writer says when lines back up behind a slow reader, and when they drain") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::mutex m;
  std::condition_variable cv;
  std::vector<bool> told;
  StdoutWriter out(fds[1]);
  out.on_flow([&](bool backed_up) {
    std::lock_guard<std::mutex> lock(m);
    told.push_back(backed_up);
    cv.notify_all();
  });
  // Nobody reads: the pipe takes 64 KiB, the rest waits in the queue.
  std::string line(1000, 'x');
  std::size_t written = 0;
  while (written < 2 * StdoutWriter::k_backed_up) {
    out.write_line(line);
    written += line.size() + 1;
  }
  {
    std::lock_guard<std::mutex> lock(m);
    REQUIRE(told == std::vector<bool>{true});
  }
  std::thread reader([&] {
    char chunk[65536];
    std::size_t got = 0;
    while (got < written) {
      ssize_t r = ::read(fds[0], chunk, sizeof chunk);
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
  });
  {
    std::unique_lock<std::mutex> lock(m);
    CHECK(cv.wait_for(lock, std::chrono::seconds(10), [&] { return told.size() == 2; }));
    CHECK(told == std::vector<bool>{true, false});
  }
  reader.join();
  out.close();
  ::close(fds[1]);
  ::close(fds[0]);
}
