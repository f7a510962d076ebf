#!/usr/bin/env bash
# Runs a command against a real, private Secret Service: a new D-Bus session bus
# (dbus-run-session) with gnome-keyring-daemon unlocked by a throwaway password, under a
# temporary HOME. Usage: with-keyring.sh COMMAND [ARGS...]
# Inside, KEYRING_HOME names the temporary home; it is removed afterwards.
set -euo pipefail
if [[ "${1:-}" != "--inside" ]]; then
  home=$(mktemp -d "${TMPDIR:-/tmp}/claribi-keyring.XXXXXX")
  mkdir -m 700 "$home/run"
  trap 'rm -rf "$home"' EXIT
  env -i PATH="$PATH" HOME="$home" KEYRING_HOME="$home" XDG_RUNTIME_DIR="$home/run" \
    TMPDIR="${TMPDIR:-/tmp}" LANG=C.UTF-8 \
    dbus-run-session -- "$0" --inside "$@"
  exit $?
fi
shift
# A non-empty password unlocks (creating) the login keyring without a prompt.
printf 'claribi-test-keyring' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
for _ in $(seq 1 100); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
      grep -q 'boolean true'; then
    exec "$@"
  fi
  sleep 0.1
done
echo "with-keyring.sh: gnome-keyring did not appear on the session bus" >&2
exit 1
