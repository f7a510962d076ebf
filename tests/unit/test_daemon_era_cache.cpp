// The remembered era (daemon/era_cache.hpp): the file's text both ways, its lifetime, what
// is refused, and the file itself (atomic, 0600, bounded).
#include <catch2/catch.hpp>

#include "daemon/era_cache.hpp"

#include <filesystem>
#include <fstream>
#include <random>

using namespace claribi;
using namespace claribi::daemon;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t k_now = 1800000000;

struct TempDir {
  fs::path path =
      fs::temp_directory_path() / ("claribi-era-cache-" + std::to_string(std::random_device{}()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace

TEST_CASE("a verdict survives its own text", "[era_cache]") {
  EraVerdict legacy{false, "2025-06-18", k_now - 10};
  auto back = EraCache::parse(EraCache::serialize(legacy), k_now);
  REQUIRE(back);
  CHECK_FALSE(back->modern);
  CHECK(back->revision == "2025-06-18");
  CHECK(back->learnt_at == k_now - 10);

  EraVerdict modern{true, {}, k_now};
  back = EraCache::parse(EraCache::serialize(modern), k_now);
  REQUIRE(back);
  CHECK(back->modern);
  CHECK(back->revision.empty());

  EraVerdict unknown_revision{false, {}, k_now};
  back = EraCache::parse(EraCache::serialize(unknown_revision), k_now);
  REQUIRE(back);
  CHECK(back->revision.empty());
}

TEST_CASE("a verdict lasts a day", "[era_cache]") {
  auto at = [](std::int64_t learnt) {
    return EraCache::parse(EraCache::serialize({false, {}, learnt}), k_now).has_value();
  };
  CHECK(at(k_now - EraCache::k_lifetime_s + 1));
  CHECK_FALSE(at(k_now - EraCache::k_lifetime_s));
  CHECK_FALSE(at(0));
  CHECK(at(k_now + 60));           // a clock set back a little
  CHECK_FALSE(at(k_now + 86400));  // from the future: not believed
}

TEST_CASE("anything but a well-formed verdict is ignored", "[era_cache]") {
  const char* bad[] = {
      "",
      "garbage",
      "[]",
      "{}",
      "{\"v\":2,\"era\":\"2025\",\"learnt_at\":1800000000}",
      "{\"v\":1,\"era\":\"2024\",\"learnt_at\":1800000000}",
      "{\"v\":1,\"era\":2025,\"learnt_at\":1800000000}",
      "{\"v\":1,\"era\":\"2025\",\"learnt_at\":\"1800000000\"}",
      "{\"v\":1,\"era\":\"2025\",\"learnt_at\":1.8e9}",
      "{\"v\":1,\"era\":\"2025\",\"learnt_at\":1800000000,\"revision\":\"yesterday\"}",
      "{\"v\":1,\"era\":\"2025\",\"learnt_at\":1800000000,\"revision\":\"2026-07-28\"}",
      "{\"v\":1,\"era\":\"2025\",\"learnt_at\":1800000000,\"revision\":7}",
      "{\"v\":1,\"era\":\"2026-07-28\",\"learnt_at\":1800000000,\"revision\":\"2025-06-18\"}",
      "{\"v\":1,\"era\":\"2025\",\"learnt_at\":1800000000",
  };
  for (const char* text : bad) {
    INFO(text);
    CHECK_FALSE(EraCache::parse(text, k_now));
  }
  std::string padded = "{\"v\":1,\"era\":\"2025\",\"learnt_at\":1800000000}";
  padded += std::string(EraCache::k_max_bytes, ' ');
  CHECK_FALSE(EraCache::parse(padded, k_now));
}

TEST_CASE("the file: written 0600 in one step, read back, forgotten", "[era_cache]") {
  TempDir d;
  auto path = (d.path / "era" / "remote.json").string();
  EraCache cache(path);
  CHECK_FALSE(cache.load(k_now));  // none yet
  cache.store({false, "2025-11-25", k_now});
  auto v = cache.load(k_now);
  REQUIRE(v);
  CHECK(v->revision == "2025-11-25");
#ifndef _WIN32  // Windows keeps no POSIX mode bits: the file inherits the profile's ACL
  auto perms = fs::status(path).permissions();
  CHECK((perms & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
#endif
  cache.store({true, {}, k_now});
  v = cache.load(k_now);
  REQUIRE(v);
  CHECK(v->modern);
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(d.path / "era")) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);  // no temporary file left behind
  cache.forget();
  CHECK_FALSE(fs::exists(path));
  CHECK_FALSE(cache.load(k_now));
}

TEST_CASE("a file too large, or not a file, is ignored", "[era_cache]") {
  TempDir d;
  auto path = d.path / "big.json";
  write(path, "{\"v\":1,\"era\":\"2025\",\"learnt_at\":1800000000}" +
                  std::string(EraCache::k_max_bytes * 4, ' '));
  CHECK_FALSE(EraCache(path.string()).load(k_now));
  write(path, "\x01\x02 not json");
  CHECK_FALSE(EraCache(path.string()).load(k_now));
  fs::create_directories(d.path / "dir.json");
  CHECK_FALSE(EraCache((d.path / "dir.json").string()).load(k_now));
  CHECK_FALSE(EraCache().load(k_now));  // disabled
}

TEST_CASE("one file per origin and path, in the state dir", "[era_cache]") {
  auto url = [](const char* text) { return EraCache::path_for(*parse_url(text)); };
  CHECK(url("https://claribi.com/mcp") == url("https://claribi.com/mcp?x=1"));
  CHECK(url("https://claribi.com/mcp") != url("https://claribi.com/mcp/v2"));
  CHECK(url("https://claribi.com/mcp") != url("https://claribi.com:8443/mcp"));
  CHECK(url("https://claribi.com/mcp") != url("http://claribi.com/mcp"));
  auto p = fs::path(url("https://claribi.com/mcp"));
  CHECK(p.parent_path().filename() == "era");
  CHECK(p.extension() == ".json");
}
