#include "daemon/install.hpp"

#include "util/headers.hpp"
#include "util/json.hpp"
#include "util/platform.hpp"
#include "util/text.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace claribi::daemon {
namespace {

/// The file's text; empty when it does not exist.
Result<std::optional<std::string>> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<std::string>();
    return fail("cannot read " + path + ": " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return std::optional<std::string>(text.str());
}

/// Line and column (1-based) of a byte offset, for error messages.
std::string where(const std::string& text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

Result<void> parse_config(const std::string& path, const std::string& text, json::Document& doc) {
  if (auto parsed = json::parse(doc, text); !parsed) {
    return fail(path + " is not valid JSON (" + parsed.error().message + " at " +
                where(text, parsed.error().offset) +
                "). Nothing was changed; fix the file or move it away, then run this again.");
  }
  if (!doc.IsObject()) return fail(path + " does not hold a JSON object; nothing was changed");
  auto servers = doc.FindMember("mcpServers");
  if (servers != doc.MemberEnd() && !servers->value.IsObject()) {
    return fail(path + ": \"mcpServers\" is not an object; nothing was changed");
  }
  return {};
}

Result<void> write_atomically(const std::string& path, const std::string& text,
                              const std::optional<std::string>& previous) {
  std::error_code ec;
  auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) return fail("cannot create " + dir.string() + ": " + ec.message());
  mode_t mode = 0644;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 0777;
  if (previous) {
    std::ofstream backup(path + ".bak", std::ios::binary | std::ios::trunc);
    backup << *previous;
    if (!backup) return fail("cannot write the backup " + path + ".bak; nothing was changed");
  }
  std::string temp = path + ".claribi-bridge." + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      ::unlink(temp.c_str());
      return fail("cannot write " + temp + "; nothing was changed");
    }
  }
  ::chmod(temp.c_str(), mode);
  if (auto replaced = platform::replace_file(temp, path); !replaced) {
    ::unlink(temp.c_str());
    return fail("cannot replace " + path + ": " + replaced.error().message);
  }
  return {};
}

}  // namespace

Result<std::string> client_config_path(
    ClientApp app, HostOs os, const std::function<std::optional<std::string>(const char*)>& env,
    const std::function<bool(const std::string&)>& exists, const std::string& project) {
  auto get = [&](const char* name) { return env(name).value_or(""); };
  std::string home = os == HostOs::windows ? get("USERPROFILE") : get("HOME");
  if (app == ClientApp::cursor) {
    if (!project.empty())
      return project + (os == HostOs::windows ? "\\.cursor\\mcp.json" : "/.cursor/mcp.json");
    if (home.empty()) return fail("cannot find the home folder (HOME / USERPROFILE is not set)");
    return home + (os == HostOs::windows ? "\\.cursor\\mcp.json" : "/.cursor/mcp.json");
  }
  switch (os) {
    case HostOs::macos:
      if (home.empty()) return fail("cannot find the home folder (HOME is not set)");
      return home + "/Library/Application Support/Claude/claude_desktop_config.json";
    case HostOs::windows: {
      // The Microsoft Store (MSIX) build keeps its configuration inside its package folder.
      auto local = get("LOCALAPPDATA");
      if (!local.empty()) {
        auto msix = local + "\\Packages\\Claude_pzs8sxrjxfjjc";
        if (exists(msix)) return msix + "\\LocalCache\\Roaming\\Claude\\claude_desktop_config.json";
      }
      auto roaming = get("APPDATA");
      if (roaming.empty())
        return fail("cannot find the roaming AppData folder (APPDATA is not set)");
      return roaming + "\\Claude\\claude_desktop_config.json";
    }
    case HostOs::linux_os: {
      auto config = get("XDG_CONFIG_HOME");
      if (config.empty() || config.front() != '/') {
        if (home.empty()) return fail("cannot find the home folder (HOME is not set)");
        config = home + "/.config";
      }
      return config + "/Claude/claude_desktop_config.json";
    }
  }
  return fail("unknown operating system");
}

Result<void> check_no_secrets(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    bool secret_header = false;
    if ((a == "--header" || a == "-H") && i + 1 < args.size()) {
      auto colon = args[i + 1].find(':');
      secret_header = colon != std::string::npos && is_secret_header(args[i + 1].substr(0, colon));
    } else if (a.rfind("--header=", 0) == 0) {
      auto value = a.substr(9);
      auto colon = value.find(':');
      secret_header = colon != std::string::npos && is_secret_header(value.substr(0, colon));
    }
    if (secret_header || a.find("claribi_mcp_") != std::string::npos) {
      return fail(
          "refusing to write a credential into the client's configuration file. Store the key "
          "in the OS keychain with 'claribi-bridge key set URL' instead; the bridge finds it "
          "there.");
    }
  }
  return {};
}

Result<std::string> install_entry(const std::string& path, const std::string& name,
                                  const std::string& binary, const std::vector<std::string>& args,
                                  bool dry_run) {
  auto previous = read_file(path);
  if (!previous) return tl::unexpected(previous.error());
  json::Document doc;
  if (*previous && !text::trim(**previous).empty()) {
    if (auto r = parse_config(path, **previous, doc); !r) return tl::unexpected(r.error());
  } else {
    doc.SetObject();
  }
  auto& a = doc.GetAllocator();
  if (!doc.HasMember("mcpServers"))
    doc.AddMember("mcpServers", json::Value(rapidjson::kObjectType), a);
  auto& servers = doc["mcpServers"];
  json::Value entry(rapidjson::kObjectType);
  entry.AddMember("command", json::Value(binary.c_str(), a), a);
  json::Value list(rapidjson::kArrayType);
  for (const auto& arg : args) list.PushBack(json::Value(arg.c_str(), a), a);
  entry.AddMember("args", list, a);
  auto existing = servers.FindMember(name.c_str());
  if (existing != servers.MemberEnd()) {
    existing->value = entry;  // replaced in place: the entry keeps its position
  } else {
    servers.AddMember(json::Value(name.c_str(), a), entry, a);
  }
  auto text = json::to_pretty_string(doc) + "\n";
  if (!dry_run) {
    if (auto r = write_atomically(path, text, *previous); !r) return tl::unexpected(r.error());
  }
  return text;
}

Result<std::optional<std::string>> uninstall_entry(const std::string& path, const std::string& name,
                                                   bool dry_run) {
  auto previous = read_file(path);
  if (!previous) return tl::unexpected(previous.error());
  if (!*previous) return std::optional<std::string>();
  json::Document doc;
  if (auto r = parse_config(path, **previous, doc); !r) return tl::unexpected(r.error());
  auto servers = doc.FindMember("mcpServers");
  if (servers == doc.MemberEnd() || !servers->value.HasMember(name.c_str())) {
    return std::optional<std::string>();
  }
  servers->value.EraseMember(name.c_str());  // keeps the order of the others
  auto text = json::to_pretty_string(doc) + "\n";
  if (!dry_run) {
    if (auto r = write_atomically(path, text, *previous); !r) return tl::unexpected(r.error());
  }
  return std::optional<std::string>(text);
}

}  // namespace claribi::daemon
