#include "daemon/install.hpp"

#include "util/json.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#ifndef _WIN32
#include <sys/stat.h>
#endif

using namespace claribi;
using namespace claribi::daemon;

namespace {

std::function<std::optional<std::string>(const char*)> env_of(
    std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

auto none_exist = [](const std::string&) { return false; };

std::string temp_dir() {
  static int n = 0;
  auto dir =
      std::filesystem::temp_directory_path() /
      ("claribi-install-" + std::to_string(std::random_device{}()) + "-" + std::to_string(++n));
  REQUIRE(std::filesystem::create_directory(dir));
  return dir.generic_string();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

}  // namespace

TEST_CASE("client configuration paths follow each OS's rules") {
  auto linux_env = env_of({{"HOME", "/home/u"}});
  CHECK(client_config_path(ClientApp::claude, HostOs::linux_os, linux_env, none_exist).value() ==
        "/home/u/.config/Claude/claude_desktop_config.json");
  CHECK(client_config_path(ClientApp::claude, HostOs::linux_os,
                           env_of({{"HOME", "/home/u"}, {"XDG_CONFIG_HOME", "/cfg"}}), none_exist)
            .value() == "/cfg/Claude/claude_desktop_config.json");
  CHECK(client_config_path(ClientApp::claude, HostOs::macos, linux_env, none_exist).value() ==
        "/home/u/Library/Application Support/Claude/claude_desktop_config.json");
  auto win = env_of({{"USERPROFILE", "C:\\Users\\u"},
                     {"APPDATA", "C:\\Users\\u\\AppData\\Roaming"},
                     {"LOCALAPPDATA", "C:\\Users\\u\\AppData\\Local"}});
  CHECK(client_config_path(ClientApp::claude, HostOs::windows, win, none_exist).value() ==
        "C:\\Users\\u\\AppData\\Roaming\\Claude\\claude_desktop_config.json");
  auto msix = [](const std::string& d) {
    return d == "C:\\Users\\u\\AppData\\Local\\Packages\\Claude_pzs8sxrjxfjjc";
  };
  CHECK(
      client_config_path(ClientApp::claude, HostOs::windows, win, msix).value() ==
      "C:\\Users\\u\\AppData\\Local\\Packages\\Claude_pzs8sxrjxfjjc\\LocalCache\\Roaming\\Claude\\"
      "claude_desktop_config.json");
  CHECK(client_config_path(ClientApp::cursor, HostOs::linux_os, linux_env, none_exist).value() ==
        "/home/u/.cursor/mcp.json");
  CHECK(client_config_path(ClientApp::cursor, HostOs::macos, linux_env, none_exist).value() ==
        "/home/u/.cursor/mcp.json");
  CHECK(client_config_path(ClientApp::cursor, HostOs::windows, win, none_exist).value() ==
        "C:\\Users\\u\\.cursor\\mcp.json");
  CHECK(client_config_path(ClientApp::cursor, HostOs::linux_os, linux_env, none_exist, "/src/app")
            .value() == "/src/app/.cursor/mcp.json");
  CHECK_FALSE(client_config_path(ClientApp::claude, HostOs::linux_os, env_of({}), none_exist));
  CHECK_FALSE(client_config_path(ClientApp::claude, HostOs::windows, env_of({}), none_exist));
}

TEST_CASE("install adds or replaces only our entry, keeps the rest, backs up, refuses bad JSON") {
  auto dir = temp_dir();
  auto path = dir + "/sub/claude_desktop_config.json";
  const std::vector<std::string> args = {"run", "https://claribi.com/mcp/v1/"};

  SECTION("a fresh file (and folder) is created") {
    auto text = install_entry(path, "clariBI", "/opt/cb/claribi-bridge", args, false);
    REQUIRE(text);
    CHECK(slurp(path) == *text);
    json::Document d;
    d.Parse(text->c_str());
    CHECK(std::string(d["mcpServers"]["clariBI"]["command"].GetString()) ==
          "/opt/cb/claribi-bridge");
    CHECK(d["mcpServers"]["clariBI"]["args"].Size() == 2);
    CHECK_FALSE(std::filesystem::exists(path + ".bak"));  // nothing to back up
  }
  SECTION("other servers and settings stay, in their order; ours is replaced in place") {
    std::filesystem::create_directory(dir + "/sub");
    std::string before =
        R"({"globalShortcut":"Ctrl+Space","mcpServers":{"a":{"command":"npx","args":["x"],"env":{"K":"v"}},)"
        R"("clariBI":{"command":"old"},"z":{"command":"uvx"}},"theme":"dark"})";
    spit(path, before);
#ifndef _WIN32
    ::chmod(path.c_str(), 0600);
#endif
    auto text = install_entry(path, "clariBI", "/opt/cb/claribi-bridge", args, false);
    REQUIRE(text);
    CHECK(slurp(path + ".bak") == before);
    json::Document d;
    d.Parse(slurp(path).c_str());
    std::vector<std::string> top, servers;
    for (auto& m : d.GetObject()) top.emplace_back(m.name.GetString());
    for (auto& m : d["mcpServers"].GetObject()) servers.emplace_back(m.name.GetString());
    CHECK(top == std::vector<std::string>{"globalShortcut", "mcpServers", "theme"});
    CHECK(servers == std::vector<std::string>{"a", "clariBI", "z"});
    CHECK(std::string(d["mcpServers"]["a"]["env"]["K"].GetString()) == "v");
    CHECK(std::string(d["mcpServers"]["clariBI"]["command"].GetString()) ==
          "/opt/cb/claribi-bridge");
#ifndef _WIN32
    struct stat st {};
    ::stat(path.c_str(), &st);
    CHECK((st.st_mode & 0777) == 0600);  // the file keeps its mode
#endif

    auto removed = uninstall_entry(path, "clariBI", false);
    REQUIRE(removed);
    REQUIRE(removed->has_value());
    d.Parse(slurp(path).c_str());
    servers.clear();
    for (auto& m : d["mcpServers"].GetObject()) servers.emplace_back(m.name.GetString());
    CHECK(servers == std::vector<std::string>{"a", "z"});
    auto again = uninstall_entry(path, "clariBI", false);
    REQUIRE(again);
    CHECK_FALSE(again->has_value());
  }
  SECTION("malformed JSON: refused with a position, file untouched") {
    std::filesystem::create_directory(dir + "/sub");
    std::string bad = "{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"x\",}\n  }\n}\n";
    spit(path, bad);
    auto r = install_entry(path, "clariBI", "/bin/cb", args, false);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("line 3") != std::string::npos);
    CHECK(slurp(path) == bad);
    CHECK_FALSE(std::filesystem::exists(path + ".bak"));
    CHECK_FALSE(uninstall_entry(path, "clariBI", false));
    spit(path, R"({"mcpServers": []})");
    CHECK_FALSE(install_entry(path, "clariBI", "/bin/cb", args, false));
  }
  SECTION("dry run writes nothing") {
    auto text = install_entry(path, "clariBI", "/bin/cb", args, true);
    REQUIRE(text);
    CHECK_FALSE(std::filesystem::exists(path));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("no credential goes into a client configuration") {
  CHECK(check_no_secrets({"run", "https://x", "--read-only"}));
  CHECK_FALSE(check_no_secrets({"run", "--header", "Authorization: Bearer abc"}));
  CHECK_FALSE(check_no_secrets({"--header=X-Api-Key: abc"}));
  CHECK_FALSE(check_no_secrets({"run", "https://x?key=claribi_mcp_abcdef"}));
  CHECK(check_no_secrets({"--header", "X-Tenant: acme"}));
}
