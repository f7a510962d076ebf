// open_browser on Windows: the shell's URL handler (CMake compiles this file on Windows only).
#include "oauth/browser.hpp"

// clang-format off
#include <windows.h>  // before shellapi.h, which needs its types
#include <shellapi.h>
// clang-format on

namespace claribi::oauth {

Result<void> open_browser(const std::string& url) {
  int n = MultiByteToWideChar(CP_UTF8, 0, url.c_str(), -1, nullptr, 0);
  std::wstring wide(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, url.c_str(), -1, wide.data(), n);
  auto rc = reinterpret_cast<INT_PTR>(
      ShellExecuteW(nullptr, L"open", wide.c_str(), nullptr, nullptr, SW_SHOWNORMAL));
  if (rc <= 32)
    return fail("Windows could not open a browser (ShellExecute error " + std::to_string(rc) + ")");
  return {};
}

}  // namespace claribi::oauth
