#pragma once

#include <string>
#include <vector>

#include "util/result.hpp"

/// Inside open_browser on POSIX (browser_posix.cpp): what differs between macOS and the
/// other systems.
namespace claribi::oauth::detail {

/// Starts `argv` (argv[0] looked up on PATH unless it holds a '/') with no stdio of ours and
/// an environment without our secrets, without waiting for it (browser_posix.cpp).
Result<void> launch(const std::vector<std::string>& argv);

/// Opens `url` the system's way when $BROWSER is unset: `open` on macOS
/// (browser_macos.cpp), xdg-open in a graphical session elsewhere (browser_linux.cpp).
Result<void> open_with_system_launcher(const std::string& url);

}  // namespace claribi::oauth::detail
