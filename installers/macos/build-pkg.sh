#!/usr/bin/env bash
# macOS installer, for a macOS host with Xcode command line tools (not run on Linux CI).
# Builds a universal binary, signs it with the hardened runtime, wraps it in a signed
# .pkg that installs /usr/local/bin/claribi-bridge, notarizes and staples it.
#
#   DEVELOPER_ID_APP="Developer ID Application: clariBI (TEAMID)" \
#   DEVELOPER_ID_INSTALLER="Developer ID Installer: clariBI (TEAMID)" \
#   NOTARY_PROFILE=claribi-notary \        # xcrun notarytool store-credentials claribi-notary ...
#   installers/macos/build-pkg.sh
#
# Dependencies on the host: cmake, ninja, and the libraries of the Linux build from Homebrew
# (asio, rapidjson, cli11, tl-expected, openssl@3; libcurl is the SDK's). Both halves link
# libcrypto and Boost.Filesystem, so on Apple silicon point OPENSSL_ROOT_DIR and Boost_ROOT
# at universal static builds (.github/workflows/platforms.yml makes them); Boost 1.88 and
# later moved the Boost.Process v1 headers the browser launch includes. Set SKIP_NOTARIZE=1
# for a local, unsigned test build (no codesign, productbuild --sign or notarytool).
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(sed -n 's/^project(claribi-bridge VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
out=build-macos
for arch in arm64 x86_64; do
  cmake -S . -B "$out/$arch" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_OSX_ARCHITECTURES="$arch" \
    -DCMAKE_OSX_DEPLOYMENT_TARGET=12.0 -DCLARIBI_TESTS=OFF
  cmake --build "$out/$arch"
done
mkdir -p "$out/root/usr/local/bin"
lipo -create -output "$out/root/usr/local/bin/claribi-bridge" \
  "$out/arm64/daemon/claribi-bridge" "$out/x86_64/daemon/claribi-bridge"

if [[ -z "${SKIP_NOTARIZE:-}" ]]; then
  codesign --force --options runtime --timestamp --sign "$DEVELOPER_ID_APP" \
    "$out/root/usr/local/bin/claribi-bridge"
fi
pkgbuild --root "$out/root" --identifier com.claribi.bridge --version "$version" \
  --install-location / "$out/claribi-bridge-component.pkg"
sign_args=()
[[ -n "${SKIP_NOTARIZE:-}" ]] || sign_args=(--sign "$DEVELOPER_ID_INSTALLER")
# ${a[@]+"${a[@]}"}: macOS's bash 3.2 calls an empty array unbound under `set -u`.
productbuild --package "$out/claribi-bridge-component.pkg" ${sign_args[@]+"${sign_args[@]}"} \
  "$out/claribi-bridge-$version.pkg"
if [[ -z "${SKIP_NOTARIZE:-}" ]]; then
  xcrun notarytool submit "$out/claribi-bridge-$version.pkg" --keychain-profile "$NOTARY_PROFILE" --wait
  xcrun stapler staple "$out/claribi-bridge-$version.pkg"
fi
# The same binary goes into the .mcpb bundle as server/darwin/claribi-bridge.
echo "$out/claribi-bridge-$version.pkg"
