#include "daemon/stdout_writer.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <thread>

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
