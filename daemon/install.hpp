#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace claribi::daemon {

enum class ClientApp { claude, cursor };
enum class HostOs { linux_os, macos, windows };

/// The OS this binary was built for; per platform (install_linux.cpp, install_macos.cpp,
/// install_windows.cpp).
HostOs this_os();

/// Where a client keeps its MCP server configuration, by the OS's rules. `env` reads the
/// environment, `exists` tells whether a directory exists (the MSIX build of Claude Desktop
/// on Windows keeps its files in its package folder). `project` (Cursor): the project folder.
Result<std::string> client_config_path(
    ClientApp app, HostOs os, const std::function<std::optional<std::string>(const char*)>& env,
    const std::function<bool(const std::string&)>& exists, const std::string& project = {});

/// Adds or replaces the `mcpServers.<name>` entry (command = `binary`, args = `args`),
/// keeping every other key and value. Creates the file (and its folder) when missing;
/// refuses, changing nothing, when it is not valid JSON. Writes a temporary file and renames
/// it over the original after copying the original to `<path>.bak`. `dry_run`: nothing is
/// written. Returns the new text.
Result<std::string> install_entry(const std::string& path, const std::string& name,
                                  const std::string& binary, const std::vector<std::string>& args,
                                  bool dry_run);

/// Removes `mcpServers.<name>` (nothing else). Returns the new text, or nullopt when there
/// was no such entry (the file is then left alone).
Result<std::optional<std::string>> uninstall_entry(const std::string& path, const std::string& name,
                                                   bool dry_run);

/// Refuses arguments that would put a secret into a config file.
Result<void> check_no_secrets(const std::vector<std::string>& args);

}  // namespace claribi::daemon
