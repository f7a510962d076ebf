#!/usr/bin/env python3
"""The Windows binary, under wine, between a stdio client (this script) and the fault
fixture server on 127.0.0.1: initialize, one tool call, stdout exactly JSON lines ending in
"\\n" (no "\\r"), and a clean exit with the session deleted at stdin's end.

Usage: proxy_smoke.py WINE CLARIBI_BRIDGE_EXE   (WINEPREFIX and friends from the caller)
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fault"))
from fixture_server import Fixture  # noqa: E402


def main():
    wine, exe = sys.argv[1], sys.argv[2]
    fx = Fixture()
    p = subprocess.Popen([wine, exe, "--log-level", "info", fx.url], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def send(obj):
        p.stdin.write((json.dumps(obj) + "\n").encode())
        p.stdin.flush()

    t0 = time.time()
    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "wine", "version": "1"}}})
    first = p.stdout.readline()
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    send({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
          "params": {"name": "digest", "arguments": {"data": "abc"}}})
    second = p.stdout.readline()
    p.stdin.close()
    rest = p.stdout.read()
    p.wait(timeout=20)
    stderr = p.stderr.read().decode("utf-8", "replace")
    took = time.time() - t0
    for line in (first, second):
        assert line.endswith(b"}\n") and b"\r" not in line, (line, stderr)
    assert json.loads(first)["result"]["serverInfo"]["name"] == "fixture", (first, stderr)
    text = json.loads(second)["result"]["content"][0]["text"]
    assert text.endswith(" 3") and text.startswith("ba7816bf"), (second, stderr)
    assert rest == b"", rest
    assert p.returncode == 0, (p.returncode, stderr)
    methods = [m for v, m in fx.methods() if v == "POST"]
    assert methods[-3:] == ["initialize", "notifications/initialized", "tools/call"], methods
    assert ("DELETE", None) in fx.methods(), fx.methods()
    print(f"  proxied initialize and tools/call over HTTP, exited cleanly in {took:.1f} s")


if __name__ == "__main__":
    main()
