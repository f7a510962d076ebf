#include "daemon/stdin_source.hpp"

#include "util/platform.hpp"

#include <thread>
#include <utility>
#include <vector>

namespace claribi::daemon {

std::unique_ptr<StdinSource> read_stdin_on_thread(std::shared_ptr<PostGuard> inbox, StdinSink sink,
                                                  std::size_t max_message) {
  auto shared = std::make_shared<StdinSink>(std::move(sink));
  std::thread([inbox, shared, max_message] {
    LineFramer framer(LineFramer::Sink{[&](std::string&& line) {
                                         inbox->post([shared, line = std::move(line)]() mutable {
                                           shared->line(std::move(line));
                                         });
                                       },
                                       [&](LineFramer::Oversized&& o) {
                                         inbox->post([shared, o = std::move(o)]() mutable {
                                           shared->oversized(std::move(o));
                                         });
                                       }},
                      max_message);
    std::vector<char> buf(64 * 1024);
    for (;;) {
      long n = platform::read_stdin(buf.data(), buf.size());
      if (n <= 0) break;
      framer.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    }
    framer.finish();
    inbox->post([shared] { shared->eof(); });
  }).detach();
  // The thread blocks in read(2) until stdin ends and owns all it uses: nothing to keep.
  return std::make_unique<StdinSource>();
}

}  // namespace claribi::daemon
