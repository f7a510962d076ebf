# Cross-compiling for 64-bit Windows with Debian's mingw-w64 (POSIX threads flavour, for
# std::thread). Used by scripts/build-windows; the libraries come from
# scripts/build-windows-deps in .deps/windows.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32 ${CMAKE_CURRENT_LIST_DIR}/../.deps/windows)
# Programs from the build machine; libraries and headers from the Windows side only, except
# the header-only ones Debian installs for the host (Asio, RapidJSON, CLI11, tl::expected),
# which scripts/build-windows points at explicitly.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
