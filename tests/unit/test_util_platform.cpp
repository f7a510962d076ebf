// The OS calls behind util/platform.hpp, on this machine's files.
#include <catch2/catch.hpp>

#include "util/platform.hpp"

#include <filesystem>
#include <fstream>
#include <random>

using namespace claribi;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path =
      fs::temp_directory_path() / ("claribi-platform-" + std::to_string(std::random_device{}()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string file(const std::string& name, const std::string& content) const {
    auto p = (path / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("replace_file puts a file in place of another in one step", "[platform]") {
  TempDir d;
  auto from = d.file("new", "new content");
  auto to = d.file("old", "old content");
  REQUIRE(platform::replace_file(from, to));
  CHECK(read_all(to) == "new content");
  CHECK_FALSE(fs::exists(from));
  auto missing = platform::replace_file((d.path / "nothing").string(), to);
  REQUIRE_FALSE(missing);
  CHECK_FALSE(missing.error().message.empty());
}

TEST_CASE("file_info says what a path names, after links, with its identity", "[platform]") {
  TempDir d;
  auto f = d.file("f", "12345");
  auto info = platform::file_info(f);
  REQUIRE(info);
  CHECK(info->kind == platform::FileInfo::Kind::regular);
  CHECK(info->size == 5);
  CHECK(info->links == 1);
  auto dir = platform::file_info(d.path.string());
  REQUIRE(dir);
  CHECK(dir->kind == platform::FileInfo::Kind::directory);
  fs::create_hard_link(f, d.path / "twin");
  auto again = platform::file_info(f);
  REQUIRE(again);
  CHECK(again->links == 2);
  auto twin = platform::file_info((d.path / "twin").string());
  CHECK((twin->device == again->device && twin->inode == again->inode));
  CHECK_FALSE(platform::file_info((d.path / "absent").string()));
}

TEST_CASE("real_path resolves links; a missing path is empty", "[platform]") {
  TempDir d;
  auto f = d.file("target", "x");
  fs::create_symlink(f, d.path / "link");
  CHECK(platform::real_path((d.path / "link").string()) == fs::canonical(f).string());
  CHECK(platform::real_path((d.path / "absent").string()).empty());
}

TEST_CASE("an input file refuses a link in its last component and reads to the end", "[platform]") {
  TempDir d;
  auto f = d.file("data", std::string(10000, 'z'));
  fs::create_symlink(f, d.path / "link");
  platform::InputFile link;
  CHECK_FALSE(link.open((d.path / "link").string()));
  CHECK_FALSE(link.is_open());
  platform::InputFile in;
  REQUIRE(in.open(f));
  auto info = in.info();
  REQUIRE(info);
  CHECK(info->size == 10000);
  std::string got;
  char buf[4096];
  long n = 0;
  while ((n = in.read(buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
  CHECK(n == 0);
  CHECK(got == std::string(10000, 'z'));
  in.close();
  CHECK_FALSE(in.is_open());
}

TEST_CASE("the running executable and the home folder are known", "[platform]") {
  auto self = platform::own_executable();
  REQUIRE_FALSE(self.empty());
  CHECK(fs::exists(self));
  CHECK(fs::path(self).filename().string().find("unit_tests") != std::string::npos);
  CHECK(platform::home_from_environment() != nullptr);
  platform::release_free_memory();  // callable at any time
}
