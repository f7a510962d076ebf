// The opt-in file store (--credential-store file): one JSON object, mode 0600, in the
// user's state directory. Every change is read-modify-write under an advisory lock and
// replaces the file by rename, so concurrent bridges never see half a file.
#include "keychain/keychain.hpp"
#include "keychain/os_store.hpp"

#include "util/json.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

namespace claribi::keychain {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

/// Creates the folder that holds `file` when missing, the last level private (0700).
Result<void> make_private_parent(const std::string& file) {
  namespace fs = std::filesystem;
  auto dir = fs::path(file).parent_path();
  std::error_code ec;
  if (dir.empty() || fs::exists(dir, ec)) return {};
  fs::create_directories(dir, ec);
  if (!ec) fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return fail("cannot create " + dir.string() + ": " + ec.message());
  return {};
}

class FileKeychain final : public Keychain {
 public:
  explicit FileKeychain(std::string path) : m_path(std::move(path)) {}

  Result<std::optional<std::string>> get(const Key& key) override {
    auto lock = take_lock(LOCK_SH);
    if (!lock) return tl::unexpected(lock.error());
    auto entries = load();
    ::close(*lock);
    if (!entries) return tl::unexpected(entries.error());
    auto it = entries->find(key.account);
    if (it == entries->end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  Result<void> set(const Key& key, const std::string& secret) override {
    return modify([&](std::map<std::string, std::string>& e) { e[key.account] = secret; });
  }

  Result<void> remove(const Key& key) override {
    return modify([&](std::map<std::string, std::string>& e) { e.erase(key.account); });
  }

  Result<std::vector<std::string>> list(const std::string& prefix) override {
    auto lock = take_lock(LOCK_SH);
    if (!lock) return tl::unexpected(lock.error());
    auto entries = load();
    ::close(*lock);
    if (!entries) return tl::unexpected(entries.error());
    std::vector<std::string> out;
    for (const auto& [account, value] : *entries) out.push_back(account);
    return with_prefix(std::move(out), prefix);
  }

  std::string backend_name() const override { return "file (" + m_path + ")"; }

 private:
  Result<int> take_lock(int how) {
    if (auto r = make_private_parent(m_path); !r) return tl::unexpected(r.error());
    std::string lock_path = m_path + ".lock";
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return fail("cannot open " + lock_path + ": " + errno_text());
    while (::flock(fd, how) != 0) {
      if (errno != EINTR) {
        ::close(fd);
        return fail("cannot lock " + lock_path + ": " + errno_text());
      }
    }
    return fd;
  }

  Result<std::map<std::string, std::string>> load() {
    std::map<std::string, std::string> entries;
    int fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return entries;
      return fail("cannot read " + m_path + ": " + errno_text());
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
      ::close(fd);
      char mode[8];
      std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
      return fail(m_path + " is open to other users (mode " + mode +
                  "); run chmod 600 on it and rotate the secrets it holds");
    }
    std::string text;
    char buf[8192];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    json::Document doc;
    (void)json::parse(doc, text);
    const json::Value* items = json::member(doc, "entries");
    if (items == nullptr || !items->IsObject()) {
      return fail(m_path + " is not a claribi-bridge credential file; move it away");
    }
    for (const auto& m : items->GetObject()) {
      if (m.value.IsString()) {
        entries.emplace(std::string(m.name.GetString(), m.name.GetStringLength()),
                        std::string(m.value.GetString(), m.value.GetStringLength()));
      }
    }
    return entries;
  }

  template <class F>
  Result<void> modify(F&& change) {
    auto lock = take_lock(LOCK_EX);
    if (!lock) return tl::unexpected(lock.error());
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{*lock};
    auto entries = load();
    if (!entries) return tl::unexpected(entries.error());
    change(*entries);
    json::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    json::Value items(rapidjson::kObjectType);
    for (const auto& [account, value] : *entries) {
      items.AddMember(
          json::Value(account.c_str(), static_cast<rapidjson::SizeType>(account.size()), a),
          json::Value(value.c_str(), static_cast<rapidjson::SizeType>(value.size()), a), a);
    }
    doc.AddMember("service", json::Value(k_service, a), a);
    doc.AddMember("entries", items, a);
    std::string text = json::to_pretty_string(doc) + "\n";
    std::string next = m_path + ".new";
    int fd = ::open(next.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return fail("cannot write " + next + ": " + errno_text());
    ::fchmod(fd, 0600);
    std::size_t done = 0;
    while (done < text.size()) {
      ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fd);
        ::unlink(next.c_str());
        return fail("cannot write " + next + ": " + errno_text());
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(next.c_str(), m_path.c_str()) != 0) {
      ::unlink(next.c_str());
      return fail("cannot replace " + m_path + ": " + errno_text());
    }
    return {};
  }

  std::string m_path;
};

}  // namespace

std::string default_file_store_path() {
  std::string base;
  if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && *state == '/') {
    base = state;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    base = std::string(home) + "/.local/state";
  } else {
    base = ".";
  }
  return base + "/claribi-bridge/credentials.json";
}

Result<std::unique_ptr<Keychain>> make_file_keychain(std::string path) {
  if (path.empty()) path = default_file_store_path();
  return std::unique_ptr<Keychain>(std::make_unique<FileKeychain>(std::move(path)));
}

}  // namespace claribi::keychain
