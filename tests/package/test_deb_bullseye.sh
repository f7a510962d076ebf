#!/usr/bin/env bash
# The release .deb on Debian 11 (glibc 2.31), the oldest system it supports: installed with
# dpkg -i inside the Debian 11 root scripts/build-release-linux keeps, then --version,
# status, and a short session (initialize, tools/list, a tools/call) against a loopback
# clariBI fixture started outside the root; removed with dpkg -r, leaving nothing behind.
# Needs root (chroot). Usage: test_deb_bullseye.sh DEB VERSION [DEBIAN_11_ROOT]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
deb=$(realpath "$1")
version=$2
root=${3:-$repo/.deps/bullseye-root}
[ -x "$root/usr/bin/dpkg" ] ||
  { echo "test_deb_bullseye: no Debian 11 root at $root (scripts/build-release-linux makes it)" >&2; exit 1; }
glibc=$(chroot "$root" ldd --version | sed -n '1s/.* //p')
[ "$glibc" = 2.31 ] || { echo "test_deb_bullseye: the root has glibc $glibc, not 2.31" >&2; exit 1; }
work=$(mktemp -d)
home=/tmp/claribi-deb-home
fixture=""
cleanup() {
  [ -n "$fixture" ] && kill "$fixture" 2>/dev/null
  chroot "$root" dpkg -r claribi-bridge >/dev/null 2>&1 || true
  rm -rf "$work" "$root/tmp/claribi.deb" "$root$home"
}
trap cleanup EXIT

# Everything but scratch and bookkeeping folders, before and after.
snapshot() {
  (cd "$root" && find . -xdev \( -path ./proc -o -path ./tmp -o -path ./src -o -path ./var \
    -o -path ./root \) -prune -o -print | sort)
}
snapshot > "$work/before"
cp "$deb" "$root/tmp/claribi.deb"
chroot "$root" dpkg -i /tmp/claribi.deb >/dev/null
out=$(chroot "$root" claribi-bridge --version)
[ "$out" = "claribi-bridge $version" ] || { echo "test_deb_bullseye: --version said: $out" >&2; exit 1; }
echo "ok   dpkg -i on Debian 11 (glibc $glibc); --version: $out"

mkdir -p "$root$home"
run() { chroot "$root" /usr/bin/env -i HOME=$home PATH=/usr/bin:/bin claribi-bridge --credential-store file "$@"; }
status=$(run status 2>/dev/null)
grep -q "^Credential store: file" <<<"$status" || { echo "test_deb_bullseye: status said: $status" >&2; exit 1; }
echo "ok   status: $(head -1 <<<"$status")"

# The fixture listens on 127.0.0.1 outside the root; the root shares the network.
python3 "$repo/tests/fault/claribi_fixture.py" 0 > "$work/fixture.out" &
fixture=$!
for _ in $(seq 1 50); do grep -q listening "$work/fixture.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening //p' "$work/fixture.out")
[ -n "$url" ] || { echo "test_deb_bullseye: the fixture did not start" >&2; exit 1; }
# Like a client: initialized and the requests only after initialize is answered.
python3 - "$root" "$home" "$url" <<'EOF'
import json, subprocess, sys
root, home, url = sys.argv[1:]
p = subprocess.Popen(["chroot", root, "/usr/bin/env", "-i", f"HOME={home}", "PATH=/usr/bin:/bin",
                      "claribi-bridge", "--credential-store", "file", "--log-level", "warn", "run", url],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
def send(m):
    p.stdin.write(json.dumps(m) + "\n")
    p.stdin.flush()
def answer(i):
    for line in p.stdout:
        m = json.loads(line)
        if m.get("id") == i:
            return m
    raise AssertionError(f"no answer to {i}")
send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25",
      "capabilities": {}, "clientInfo": {"name": "deb-test", "version": "1"}}})
assert "result" in answer(1)
send({"jsonrpc": "2.0", "method": "notifications/initialized"})
send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
tools = answer(2)["result"]["tools"]
assert any(t["name"] == "check_pricing" for t in tools), tools
send({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "check_pricing", "arguments": {}}})
assert "Starter" in json.dumps(answer(3)["result"])
p.stdin.close()
assert p.wait(timeout=10) == 0
print(f"ok   a session against {len(tools)} tools: initialize, tools/list, tools/call")
EOF

chroot "$root" dpkg -r claribi-bridge >/dev/null
rm -rf "$root$home"
snapshot > "$work/after"
if ! diff "$work/before" "$work/after" > "$work/diff"; then
  echo "test_deb_bullseye: left behind after dpkg -r:" >&2
  cat "$work/diff" >&2
  exit 1
fi
echo "ok   dpkg -r left nothing behind"
