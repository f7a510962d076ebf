// `install` and `uninstall` edit a client's configuration file (Claude Desktop, Cursor): JSON
// that the user and other tools wrote. The edit must keep it JSON and put the entry where
// the client reads it, or refuse and change nothing. Dry runs only: nothing is written.
//
// Input: the configuration file's text.
#include "daemon/install.hpp"
#include "tests/fuzz/fuzz_input.hpp"
#include "util/json.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <string>

using namespace claribi;
using namespace claribi::daemon;

namespace {

/// The file the functions read, kept in memory: an anonymous file under a /proc path.
std::string g_path;
int g_fd = -1;

void put(std::string_view text) {
  if (::ftruncate(g_fd, 0) != 0) fuzz::broken("the memory file can be emptied");
  if (::pwrite(g_fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    fuzz::broken("the memory file can be written");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_fd = ::memfd_create("claribi-fuzz-config", 0);
  if (g_fd < 0) fuzz::broken("memfd_create works");
  g_path = "/proc/self/fd/" + std::to_string(g_fd);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::as_text(data, size);
  put(text);
  const std::string name = "clariBI";
  const std::string binary = "/usr/local/bin/claribi-bridge";
  const std::vector<std::string> args = {"run", "https://claribi.com/mcp/v1/", "--read-only"};

  if (auto installed = install_entry(g_path, name, binary, args, true)) {
    json::Document doc;
    fuzz::check(json::parse(doc, *installed) && doc.IsObject(), "install writes a JSON object");
    const auto* servers = json::member(doc, "mcpServers");
    const auto* entry = servers != nullptr ? json::member(*servers, name.c_str()) : nullptr;
    fuzz::check(entry != nullptr && entry->IsObject(), "install writes mcpServers.<name>");
    fuzz::check(json::string_or_empty(json::member(*entry, "command")) == binary,
                "the entry runs the bridge");
    const auto* list = json::member(*entry, "args");
    fuzz::check(list != nullptr && list->IsArray() && list->Size() == args.size(),
                "the entry carries the arguments");
  }

  if (auto removed = uninstall_entry(g_path, name, true); removed && *removed) {
    json::Document doc;
    fuzz::check(json::parse(doc, **removed) && doc.IsObject(), "uninstall writes a JSON object");
  }
  return 0;
}
