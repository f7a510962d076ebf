// open_browser on POSIX: $BROWSER, else the system's launcher (browser_linux.cpp,
// browser_macos.cpp), started with Boost.Process (CMake compiles this file everywhere but
// Windows).
#include "oauth/browser_posix.hpp"
#include "oauth/browser.hpp"

#include "util/log.hpp"
#include "util/text.hpp"

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/io.hpp>
#include <boost/process/search_path.hpp>
#include <thread>

#include <cstdlib>
#include <sstream>
#include <vector>

namespace claribi::oauth {

namespace bp = boost::process;

namespace {

/// Names of variables that may hold credentials; the browser does not need them.
bool secret_variable(const std::string& name) {
  auto upper = name;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.rfind("CLARIBI_", 0) == 0) return true;
  for (const char* word : {"TOKEN", "SECRET", "PASSWORD", "PASSWD", "API_KEY", "APIKEY",
                           "CREDENTIAL", "PRIVATE_KEY"}) {
    if (upper.find(word) != std::string::npos) return true;
  }
  return false;
}

std::vector<std::string> split_command(const std::string& command, const std::string& url) {
  std::vector<std::string> argv;
  std::istringstream in(command);
  std::string word;
  bool placed = false;
  while (in >> word) {
    auto at = word.find("%s");
    if (at != std::string::npos) {
      word.replace(at, 2, url);
      placed = true;
    }
    argv.push_back(word);
  }
  if (!argv.empty() && !placed) argv.push_back(url);
  return argv;
}

}  // namespace

namespace detail {

Result<void> launch(const std::vector<std::string>& argv) {
  auto exe = argv.front().find('/') != std::string::npos ? boost::filesystem::path(argv.front())
                                                         : bp::search_path(argv.front());
  if (exe.empty()) return fail("'" + argv.front() + "' was not found on PATH");
  bp::environment env = boost::this_process::environment();
  std::vector<std::string> drop;
  for (const auto& entry : env) {
    if (secret_variable(entry.get_name())) drop.push_back(entry.get_name());
  }
  for (const auto& name : drop) env.erase(name);
  std::error_code ec;
  bp::child child(bp::exe = exe, bp::args = std::vector<std::string>(argv.begin() + 1, argv.end()),
                  bp::std_in<bp::null, bp::std_out> bp::null, bp::std_err > bp::null, bp::env = env,
                  ec);
  if (ec) return fail("could not start '" + argv.front() + "': " + ec.message());
  // Reap it when it ends, without holding up the login.
  std::thread([c = std::move(child)]() mutable {
    std::error_code ignored;
    c.wait(ignored);
  }).detach();
  return {};
}

}  // namespace detail

Result<void> open_browser(const std::string& url) {
  if (const char* browser = std::getenv("BROWSER"); browser != nullptr && *browser != 0) {
    std::string last_error;
    std::istringstream list{std::string(browser)};
    std::string command;
    while (std::getline(list, command, ':')) {
      auto argv = split_command(command, url);
      if (argv.empty()) continue;
      auto r = detail::launch(argv);
      if (r) return r;
      last_error = r.error().message;
    }
    return fail("$BROWSER did not start: " + last_error);
  }
  return detail::open_with_system_launcher(url);
}

}  // namespace claribi::oauth
