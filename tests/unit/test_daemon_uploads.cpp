// Which local files a path twin may send: every rule of check_upload, on real files.
#include <catch2/catch.hpp>

#include "daemon/uploads.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

using namespace claribi;
using namespace claribi::daemon;
namespace fs = std::filesystem;

namespace {

struct Dirs {
  fs::path root =
      fs::temp_directory_path() / ("claribi-uploads-" + std::to_string(std::random_device{}()));
  fs::path allowed = root / "allowed";
  fs::path outside = root / "outside";
  UploadOptions options;
  Dirs() {
    fs::create_directories(allowed);
    fs::create_directories(outside);
    options.dirs = {allowed.string()};
  }
  ~Dirs() {
    std::error_code ignored;
    fs::remove_all(root, ignored);
  }
  std::string file(const fs::path& p, std::size_t size) const {
    std::ofstream(p, std::ios::binary) << std::string(size, 'x');
    return p.string();
  }
  /// The refusal's reason, or empty when the file may go.
  std::string why(const std::string& path, const std::vector<std::string>& roots = {}) const {
    auto r = check_upload(options, path, roots);
    return r ? std::string() : r.error().message;
  }
};

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a regular file inside an allowed directory passes, with its identity", "[uploads]") {
  Dirs d;
  auto f = d.file(d.allowed / "data.csv", 1234);
  auto r = check_upload(d.options, f);
  REQUIRE(r);
  CHECK(r->path == fs::canonical(f).string());
  CHECK(r->size == 1234);
  CHECK(r->inode != 0);
}

TEST_CASE("paths outside, relative, hidden or with control characters are refused", "[uploads]") {
  Dirs d;
  auto secret = d.file(d.outside / "secret.csv", 10);
  CHECK(has(d.why(secret), "outside the allowed upload directories"));
  CHECK(has(d.why("relative.csv"), "not an absolute path"));
  auto hidden = d.file(d.allowed / ".env", 10);
  CHECK(has(d.why(hidden), "hidden"));
  d.options.allow_hidden = true;
  CHECK(d.why(hidden).empty());
  CHECK_FALSE(d.why((d.allowed / "a\nb.csv").string()).empty());
  CHECK_FALSE(d.why(std::string((d.allowed / "a").string()) + std::string(1, '\0') + "b").empty());
}

TEST_CASE("links that lead outside are refused; hard links only when allowed", "[uploads]") {
  Dirs d;
  auto secret = d.file(d.outside / "secret.csv", 10);
  fs::create_symlink(secret, d.allowed / "escape.csv");
  CHECK(has(d.why((d.allowed / "escape.csv").string()), "leads outside"));
  fs::create_hard_link(secret, d.allowed / "twin.csv");
  auto why = d.why((d.allowed / "twin.csv").string());
  CHECK(has(why, "--upload-allow-hardlinks"));
  d.options.allow_hardlinks = true;
  CHECK(d.why((d.allowed / "twin.csv").string()).empty());
}

TEST_CASE("directories, FIFOs and missing files are refused; the cap counts base64", "[uploads]") {
  Dirs d;
  CHECK(has(d.why(d.allowed.string()), "directory"));
  REQUIRE(::mkfifo((d.allowed / "pipe.csv").c_str(), 0600) == 0);
  CHECK(has(d.why((d.allowed / "pipe.csv").string()), "FIFO"));
  CHECK(has(d.why((d.allowed / "missing.csv").string()), "No such file"));
  d.options.max_encoded = 400;  // 300 bytes encode to exactly 400
  CHECK(d.why(d.file(d.allowed / "fits.bin", 300)).empty());
  CHECK(has(d.why(d.file(d.allowed / "over.bin", 301)), "over the upload cap"));
}

TEST_CASE("the client's roots open their directories; without any, the error says how",
          "[uploads]") {
  Dirs d;
  auto f = d.file(d.outside / "report.csv", 10);
  CHECK_FALSE(d.why(f).empty());
  CHECK(d.why(f, {d.outside.string()}).empty());
  d.options.dirs.clear();
  CHECK(has(d.why(f), "--upload-dir"));
}
