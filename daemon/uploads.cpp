#include "daemon/uploads.hpp"

#include "util/base64.hpp"
#include "util/platform.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace claribi::daemon {
namespace {

using platform::real_path;

/// `path` equals `dir` or lies below it.
bool is_within(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         path[dir.size()] == '/');
}

/// Places no upload may come from, whatever the allowed directories: keys, keyrings,
/// browser profiles, cloud credentials, and the bridge's own state.
std::vector<std::pair<std::string, std::string>> forbidden_places() {
  std::vector<std::pair<std::string, std::string>> out;
  const char* home = platform::home_from_environment();
  if (home == nullptr || *home == '\0') return out;
  std::string h = real_path(home);
  if (h.empty()) h = home;
  constexpr const char* k_secret_places[] = {
      ".ssh", ".gnupg", ".local/share/keyrings", ".password-store", ".aws", ".azure",
      ".config/gcloud", ".kube", ".docker", ".netrc", ".pgpass", ".git-credentials", ".mozilla",
      ".config/google-chrome", ".config/chromium", ".config/BraveSoftware",
      ".config/microsoft-edge", ".thunderbird", "Library/Keychains",
      "Library/Application Support/Google/Chrome", "Library/Application Support/Firefox",
      ".config/claribi-bridge",
      // Windows: browser profiles and the credential files Windows and its tools keep.
      "AppData/Local/Google/Chrome/User Data", "AppData/Local/Microsoft/Edge/User Data",
      "AppData/Roaming/Mozilla", "AppData/Local/Microsoft/Credentials",
      "AppData/Roaming/Microsoft/Credentials", "AppData/Roaming/Microsoft/Protect",
      "AppData/Roaming/gcloud"};
  for (const char* p : k_secret_places) out.emplace_back(h + "/" + p, "a secret store");
  const char* state = std::getenv("XDG_STATE_HOME");
  std::string state_dir =
      (state != nullptr && *state == '/' ? std::string(state) : h + "/.local/state") +
      "/claribi-bridge";
  out.emplace_back(state_dir, "claribi-bridge's own state");
  return out;
}

std::string human(std::uint64_t bytes) {
  char buf[64];
  if (bytes >= 1000000) {
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  }
  return buf;
}

}  // namespace

Result<CheckedFile> check_upload(const UploadOptions& options, const std::string& requested,
                                 const std::vector<std::string>& roots) {
  for (unsigned char c : requested) {
    if (c < 0x20 || c == 0x7f) {
      return fail(
          "the path holds a control character (such as NUL or a newline); claribi-bridge reads "
          "only paths without them");
    }
  }
  if (requested.empty() || requested.front() != '/') {
    return fail("'" + requested + "' is not an absolute path; give the file's full path");
  }
  std::vector<std::string> allowed;
  for (const auto& d : options.dirs) {
    auto r = real_path(d);
    if (!r.empty()) allowed.push_back(r);
  }
  for (const auto& d : roots) {
    auto r = real_path(d);
    if (!r.empty()) allowed.push_back(r);
  }
  if (allowed.empty()) {
    return fail(
        "no directory is open for uploads, so claribi-bridge will not read " + requested +
        ". Start claribi-bridge with --upload-dir DIR (for example --upload-dir ~/Documents) in "
        "the client's configuration, or use a client that shares its roots.");
  }
  auto real = real_path(requested);
  if (real.empty()) {
    return fail("cannot read " + requested + ": " + std::strerror(errno));
  }
  auto st = platform::file_info(real);
  if (!st) return fail("cannot read " + requested + ": " + st.error().message);
  using Kind = platform::FileInfo::Kind;
  if (st->kind == Kind::directory) return fail(requested + " is a directory; give a file");
  if (st->kind == Kind::fifo)
    return fail(requested + " is a FIFO (named pipe), not a regular file");
  if (st->kind == Kind::device) return fail(requested + " is a device, not a regular file");
  if (st->kind != Kind::regular) return fail(requested + " is not a regular file");

  for (const auto& [place, what] : forbidden_places()) {
    if (is_within(real, place)) {
      return fail(requested + " is in " + what + " (" + place +
                  "); claribi-bridge never uploads from there");
    }
  }
  const std::string* inside = nullptr;
  for (const auto& dir : allowed) {
    if (is_within(real, dir)) {
      inside = &dir;
      break;
    }
  }
  std::string list;
  for (const auto& d : allowed) list += (list.empty() ? "" : ", ") + d;
  if (inside == nullptr) {
    bool lexically_inside = false;
    for (const auto& dir : allowed)
      lexically_inside = lexically_inside || is_within(requested, dir);
    if (lexically_inside || real != requested) {
      return fail(requested + " leads outside the allowed upload directories (it resolves to " +
                  real + "; allowed: " + list + ")");
    }
    return fail(requested + " is outside the allowed upload directories (" + list +
                "); add its directory with --upload-dir");
  }
  if (!options.allow_hidden) {
    if (real.find("/.", inside->size()) != std::string::npos) {
      return fail(requested +
                  " is hidden (a name starting with '.'); pass --upload-allow-hidden to allow "
                  "hidden files");
    }
  }
  if (st->links > 1 && !options.allow_hardlinks) {
    return fail(requested + " has " + std::to_string(st->links) +
                " hard links, so its contents may come from outside the upload directories; "
                "copy the file, or pass --upload-allow-hardlinks to allow linked files");
  }
  auto size = st->size;
  auto encoded = base64::encoded_size(size);
  if (encoded > options.max_encoded) {
    return fail(requested + " is " + human(size) + ", " + human(encoded) +
                " as base64: over the upload cap of " + human(options.max_encoded) +
                " encoded (--max-upload-mb)");
  }
  return CheckedFile{real, size, st->device, st->inode};
}

}  // namespace claribi::daemon
