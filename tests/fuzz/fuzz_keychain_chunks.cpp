// The chunking adapter (keychain/chunked.cpp) reads back entries that another process, another
// version of the bridge or a damaged store left: whatever the entries hold, a read returns the
// value or an error, never a wrong value; and a value written through it reads back whole.
//
// Input: byte 0 sets the largest entry (100 to 355 bytes); then parts separated by RS (0x1E):
// the head entry, then the entries <account>#part1, #part2, ... as stored; the last part is
// also written through the adapter and read back.
#include "keychain/keychain.hpp"
#include "tests/fuzz/fuzz_input.hpp"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <string>

using namespace claribi;
using namespace claribi::keychain;

namespace {

/// Set while the adapter runs on this thread: its sleeps return at once.
thread_local bool t_no_sleep = false;

}  // namespace

// A read that finds mismatched pieces waits for a writer to finish (4 sleeps, 300 ms in all);
// there is no writer here, and 300 ms an input would starve the fuzzer. std::this_thread's
// sleep_for calls nanosleep, which this definition takes over; other threads (libFuzzer's
// own) still sleep.
extern "C" int nanosleep(const struct timespec* request, struct timespec* remaining) {
  if (t_no_sleep) return 0;
  return static_cast<int>(::syscall(SYS_nanosleep, request, remaining));
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = fuzz::as_text(data, size);
  std::size_t max_part = 100 + fuzz::take_byte(in);
  auto parts = fuzz::split(in, 64);
  while (parts.size() > 1 && parts.back().empty()) parts.pop_back();

  auto inner = make_memory_keychain();
  Keychain* raw = inner.get();
  auto store = make_chunked_keychain(std::move(inner), max_part);
  const Key key{"https://claribi.com/mcp/v1#oauth-tokens"};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    Key k{i == 0 ? key.account : key.account + "#part" + std::to_string(i)};
    if (!raw->set(k, std::string(parts[i]))) fuzz::broken("the memory store stores");
  }

  t_no_sleep = true;
  auto got = store->get(key);
  if (got && *got && parts[0].rfind("claribi-chunks-v1 ", 0) != 0) {
    fuzz::check(**got == parts[0], "a value stored whole reads back as it is");
  }
  auto listed = store->list("");
  fuzz::check(listed && !listed->empty() && listed->front() == key.account,
              "the account is listed, its pieces not");

  std::string value(parts.back());
  auto written = store->set(key, value);
  fuzz::check(static_cast<bool>(written), "a write with no other writer succeeds");
  // The entries this write made: the head, and the pieces it names.
  auto head = raw->get(key).value().value_or("");
  unsigned long pieces = 1;
  if (head.rfind("claribi-chunks-v1 ", 0) == 0) {
    char generation[17] = {};
    if (std::sscanf(head.c_str() + 18, "%16s %lu", generation, &pieces) != 2) pieces = 1;
  }
  for (unsigned long i = 0; i < pieces && i < 100000; ++i) {
    Key k{i == 0 ? key.account : key.account + "#part" + std::to_string(i)};
    auto entry = raw->get(k).value();
    fuzz::check(entry && entry->size() <= max_part, "no entry written exceeds the largest entry");
  }
  auto back = store->get(key);
  fuzz::check(back && *back && **back == value, "a value written reads back whole");
  fuzz::check(static_cast<bool>(store->remove(key)), "a value can be removed");
  auto gone = store->get(key);
  fuzz::check(gone && !*gone, "a removed value is gone");
  t_no_sleep = false;
  return 0;
}
