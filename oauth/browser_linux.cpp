// How Linux (and other POSIX systems but macOS) opens a URL when $BROWSER is unset: xdg-open,
// in a graphical session only (CMake compiles this file on POSIX systems other than macOS).
#include "oauth/browser_posix.hpp"

#include <cstdlib>

namespace claribi::oauth::detail {

Result<void> open_with_system_launcher(const std::string& url) {
  const char* x = std::getenv("DISPLAY");
  const char* w = std::getenv("WAYLAND_DISPLAY");
  if ((x == nullptr || *x == 0) && (w == nullptr || *w == 0)) {
    return fail("no graphical session (DISPLAY and WAYLAND_DISPLAY are unset)");
  }
  return launch({"xdg-open", url});
}

}  // namespace claribi::oauth::detail
