#!/bin/sh
# The bundle's entry on macOS and Linux: the client runs `/bin/sh .../server/launch.sh ARGS`.
# Picks the binary for this OS and CPU, restores its execute bit (some clients drop it when
# they unpack), and replaces itself with it. Writes nothing to stdout: that is the MCP channel.
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || exit 1
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64 | Linux-amd64) bin="$here/linux-x64/claribi-bridge" ;;
  Linux-aarch64 | Linux-arm64) bin="$here/linux-arm64/claribi-bridge" ;;
  Darwin-*) bin="$here/darwin/claribi-bridge" ;;
  *)
    echo "claribi-bridge: this bundle has no binary for $(uname -s) $(uname -m)" >&2
    exit 1
    ;;
esac
if [ ! -f "$bin" ]; then
  echo "claribi-bridge: this bundle has no binary for $(uname -s) $(uname -m) ($bin is missing)" >&2
  exit 1
fi
if [ ! -x "$bin" ]; then
  chmod u+x "$bin" 2>/dev/null
fi
if [ ! -x "$bin" ]; then
  # The bundle's folder is read-only: run a private copy from the user's cache instead.
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/claribi-bridge/bin"
  mkdir -p "$cache" && cp "$bin" "$cache/claribi-bridge.$$" && chmod 700 "$cache/claribi-bridge.$$" &&
    mv -f "$cache/claribi-bridge.$$" "$cache/claribi-bridge" || {
    echo "claribi-bridge: cannot make $bin executable, nor copy it to $cache" >&2
    exit 1
  }
  bin="$cache/claribi-bridge"
fi
exec "$bin" "$@"
