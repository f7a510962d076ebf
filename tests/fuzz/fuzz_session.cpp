// What the transport reads from a remote's error answers and headers: whether a 400 or 404
// body says the session is gone (transport/session.hpp), and whether an Mcp-Session-Id the
// remote hands out may go on every later request.
//
// Input: byte 0 picks the status (400, 404, or another), the rest is the body, also tried
// as a session id.
#include "tests/fuzz/fuzz_input.hpp"
#include "transport/session.hpp"

#include <algorithm>

using namespace claribi;
using namespace claribi::transport;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = fuzz::as_text(data, size);
  auto pick = fuzz::take_byte(in) % 3;
  long status = pick == 0 ? 400 : pick == 1 ? 404 : 500;

  bool lost = says_session_lost(status, in);
  if (status == 404) fuzz::check(lost, "a 404 always means the session is lost");
  if (status == 500) fuzz::check(!lost, "a 500 never means the session is lost");

  auto problem = session_id_problem(in);
  bool visible = std::all_of(in.begin(), in.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x21 && u <= 0x7e;
  });
  fuzz::check(problem.empty() == (visible && in.size() <= k_max_session_id),
              "a session id is refused exactly when it is too long or not visible ASCII");
  return 0;
}
