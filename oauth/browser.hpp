#pragma once

#include <string>

#include "util/result.hpp"

namespace claribi::oauth {

/// Opens `url` in the user's browser without waiting for it: $BROWSER when set (a
/// ':'-separated list of commands, "%s" standing for the URL), else xdg-open (Linux), open
/// (macOS) or the shell's URL handler (Windows). The browser gets no stdio of ours and an
/// environment without our secrets. An error when there is no way to open one (no display,
/// no launcher): the caller then only prints the URL.
Result<void> open_browser(const std::string& url);

}  // namespace claribi::oauth
