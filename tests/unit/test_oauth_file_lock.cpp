// The per-server login lock: exclusive across handles, released on destruction, bounded
// waits, one stable path per server.
#include <catch2/catch.hpp>

#include "oauth/file_lock.hpp"

#include <chrono>
#include <filesystem>
#include <random>

using namespace claribi;
using namespace claribi::oauth;
using namespace std::chrono_literals;

namespace {

std::string temp_lock() {
  return (std::filesystem::temp_directory_path() /
          ("claribi-lock-test-" + std::to_string(std::random_device{}())) / "server.lock")
      .string();
}

}  // namespace

TEST_CASE("a held lock makes the next one wait, then time out with a reason", "[oauth]") {
  auto path = temp_lock();
  {
    auto first = FileLock::acquire(path, 1000ms);
    REQUIRE(first);  // its folder was created
    auto t0 = std::chrono::steady_clock::now();
    auto second = FileLock::acquire(path, 150ms);
    auto waited = std::chrono::steady_clock::now() - t0;
    REQUIRE_FALSE(second);
    CHECK(waited >= 150ms);
    CHECK(waited < 2s);
    CHECK_FALSE(second.error().message.empty());
  }  // released first: Windows removes no file a process holds open
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST_CASE("a released lock is taken at once; a moved lock stays held", "[oauth]") {
  auto path = temp_lock();
  {
    auto first = FileLock::acquire(path, 1000ms);
    REQUIRE(first);
    FileLock moved(std::move(*first));
    CHECK_FALSE(FileLock::acquire(path, 50ms));  // still held by the moved-to handle
  }
  auto t0 = std::chrono::steady_clock::now();
  CHECK(FileLock::acquire(path, 1000ms));
  CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST_CASE("each server has one lock path of its own", "[oauth]") {
  auto a = lock_path_for("https://claribi.com/mcp/v1");
  CHECK(a == lock_path_for("https://claribi.com/mcp/v1"));
  CHECK(a != lock_path_for("https://claribi.com/mcp/v2"));
  CHECK(std::filesystem::path(a).extension() == ".lock");
  CHECK(a.find("claribi.com") == std::string::npos);  // a hash, not the URL
}

TEST_CASE("state files live in the user's state folder, not the working directory", "[oauth]") {
  // %LOCALAPPDATA%\claribi-bridge on Windows, $XDG_STATE_HOME or ~/.local/state elsewhere:
  // a client may start the bridge in any folder, even one it cannot write.
  for (const auto& path : {lock_path_for("https://claribi.com/mcp/v1"),
                           state_path_for("https://claribi.com/mcp/v1", "era", ".json")}) {
    INFO(path);
    CHECK(std::filesystem::path(path).is_absolute());
    CHECK(std::filesystem::path(path).parent_path().parent_path().filename() == "claribi-bridge");
  }
}
