// How macOS opens a URL when $BROWSER is unset (CMake compiles this file on macOS only).
#include "oauth/browser_posix.hpp"

namespace claribi::oauth::detail {

Result<void> open_with_system_launcher(const std::string& url) {
  return launch({"open", url});
}

}  // namespace claribi::oauth::detail
