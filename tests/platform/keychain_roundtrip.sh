#!/usr/bin/env bash
# The credential commands against the OS's real store, for .github/workflows/platforms.yml:
# the macOS login keychain or Windows Credential Manager. A canary key piped to `key set` is
# shown masked by `status`, `key remove` removes it, `status` then shows nothing; any other
# output, an exit status other than 0, or the canary in any output (stdout or stderr) fails.
# On macOS, `security` also sees the item in the login keychain, then no longer.
# Usage: keychain_roundtrip.sh BRIDGE
set -euo pipefail
bridge=$1
url=https://example.test/mcp
# At least 12 characters, so `status` shows "****" and its last four; unique per run.
canary="claribi-canary-${GITHUB_RUN_ID:-local}-$$-$RANDOM"
masked="****${canary: -4}"
all=$(mktemp)
# Whatever happened, leave nothing stored ("No API key is stored" when all went well).
trap 'rm -f "$all"; "$bridge" key remove "$url" </dev/null >/dev/null 2>&1 || true' EXIT

fail() {
  echo "keychain_roundtrip: $*" >&2
  exit 1
}
# Runs the bridge with $input on stdin; its stdout and stderr (CR removed) end up in $out.
input=""
run() {
  local rc=0
  out=$(printf '%s' "$input" | "$bridge" "$@" 2>&1) || rc=$?
  out=${out//$'\r'/}
  printf '%s\n' "$out" >>"$all"
  echo "\$ claribi-bridge $*"
  # Printed only when the canary is not in it.
  if [[ "$out" == *"$canary"* ]]; then fail "the key appeared in the output of '$*'"; fi
  printf '%s\n' "$out" | sed 's/^/  /'
  [[ $rc -eq 0 ]] || fail "'$*' exited with $rc"
}
expect() {  # expect LINE_PATTERN: some line of $out matches (grep -E)
  printf '%s\n' "$out" | grep -Eq -- "$1" || fail "expected a line matching '$1'"
}
in_keychain() {
  [[ "$(uname -s)" == Darwin ]] || return 0
  security find-generic-password -s claribi-bridge -a "$url#api-key" >/dev/null 2>&1
}

input=$canary run key set "$url"
expect "^Stored the API key \\*\\*\\*\\*${canary: -4} for $url in (macOS Keychain|Windows Credential Manager)\\.$"
[[ "$(uname -s)" != Darwin ]] || in_keychain || fail "security does not see the item in the login keychain"

input="" run status "$url"
expect "^Credential store: (macOS Keychain|Windows Credential Manager)$"
expect "^  api-key: \\*\\*\\*\\*${canary: -4}$"

input="" run key remove "$url"
expect "^Removed the API key for $url from (macOS Keychain|Windows Credential Manager)\\.$"
if [[ "$(uname -s)" == Darwin ]] && in_keychain; then fail "the item is still in the login keychain"; fi

input="" run status "$url"
expect "^  nothing stored$"
if printf '%s\n' "$out" | grep -q "api-key"; then fail "status still shows an API key"; fi

if grep -qF -- "$canary" "$all"; then fail "the key appeared in the output"; fi
echo "keychain_roundtrip: stored $masked, shown masked, removed; the key never appeared in the output"
