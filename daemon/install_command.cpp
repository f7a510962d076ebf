// install / uninstall: the client configuration entry, for a person at a terminal.
#include "daemon/install_command.hpp"
#include "daemon/install.hpp"

#include "util/headers.hpp"
#include "util/log.hpp"
#include "util/platform.hpp"

#include <climits>
#include <cstdint>
#include <cstdlib>

namespace claribi::daemon {
namespace {

std::string own_binary() {
  return platform::own_executable();
}

}  // namespace

int run_install_command(const Invocation& inv, StdoutWriter& out) {
  auto app = inv.client == "cursor" ? ClientApp::cursor : ClientApp::claude;
  auto env = process_env();
  auto path = client_config_path(
      app, this_os(), env,
      [](const std::string& dir) {
        auto info = platform::file_info(dir);
        return info && info->kind == platform::FileInfo::Kind::directory;
      },
      inv.project);
  if (!path) {
    log::write(log::Level::error, path.error().message);
    return 1;
  }
  if (inv.command == Invocation::Command::uninstall) {
    auto removed = uninstall_entry(*path, inv.entry_name, inv.dry_run);
    if (!removed) {
      log::write(log::Level::error, removed.error().message);
      return 1;
    }
    if (!*removed) {
      out.write_line("No entry named " + inv.entry_name + " in " + *path + "; nothing changed.");
    } else if (inv.dry_run) {
      out.write_line("Would write " + *path + ":\n" + **removed);
    } else {
      out.write_line("Removed " + inv.entry_name + " from " + *path + " (previous file: " + *path +
                     ".bak). Restart the client.");
    }
    return 0;
  }
  if (auto clean = check_no_secrets(inv.entry_args); !clean) {
    log::write(log::Level::error, clean.error().message);
    return 2;
  }
  auto binary = own_binary();
  if (binary.empty()) {
    log::write(log::Level::error, "cannot find the path of this claribi-bridge binary");
    return 1;
  }
  bool existed = platform::file_info(*path).has_value();
  auto text = install_entry(*path, inv.entry_name, binary, inv.entry_args, inv.dry_run);
  if (!text) {
    log::write(log::Level::error, text.error().message);
    return 1;
  }
  if (inv.dry_run) {
    out.write_line("Would write " + *path + ":\n" + *text);
  } else {
    out.write_line(
        "Added " + inv.entry_name + " to " + *path +
        (existed ? " (previous file kept as " + *path + ".bak)" : std::string(" (new file)")) +
        ". Restart the client. Credentials are not in that file: store the API key "
        "with 'claribi-bridge key set " +
        inv.entry_args[1] + "'.");
  }
  return 0;
}

}  // namespace claribi::daemon
