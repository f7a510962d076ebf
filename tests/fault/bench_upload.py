#!/usr/bin/env python3
"""Benchmark (not a test): an 18 MB file uploaded by path through claribi-bridge against curl
POSTing the same request, pre-encoded, to the same fixture server, in one run. Prints wall
times, the ratio, the bridge's peak RSS and the base64 encoder's throughput.

Usage: bench_upload.py BRIDGE UNIT_TESTS [--runs N] [--mb N]
"""
import base64
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_faults  # noqa: E402
from fixture_server import Fixture  # noqa: E402


def opt(name, default):
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def main():
    bridge, base64_bench = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    runs, mb = opt("--runs", 9), opt("--mb", 18)
    test_faults.BRIDGE = bridge
    work = tempfile.mkdtemp(prefix="claribi-bench-upload-")
    fx = Fixture()
    try:
        data = os.urandom(mb * 1000 * 1000)
        path = os.path.join(work, "data.csv")
        with open(path, "wb") as f:
            f.write(data)
        want = hashlib.sha256(data).hexdigest()

        # curl: a session, then the tools/call body with the base64 already in it.
        init = subprocess.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", "-H", "Content-Type: application/json",
                               "-H", "Accept: application/json, text/event-stream", "--data-binary",
                               json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                                   "protocolVersion": "2025-11-25", "capabilities": {},
                                   "clientInfo": {"name": "curl", "version": "1"}}}), fx.url],
                              capture_output=True, text=True, check=True)
        sid = [l.split(":", 1)[1].strip() for l in init.stdout.splitlines() if l.lower().startswith("mcp-session-id")][0]
        body_path = os.path.join(work, "body.json")
        with open(body_path, "w") as f:
            json.dump({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
                "name": "upload_data_source",
                "arguments": {"name": "bench", "format": "csv", "data_base64": base64.b64encode(data).decode()}}}, f)
        b = test_faults.Bridge(fx.url, "--upload-dir", work, "--log-level", "error")
        b.initialize()
        b.wait_for(b.request("tools/list"))
        # Alternate the two so both see the same machine.
        curl_times, bridge_times = [], []
        for _ in range(runs):
            p = subprocess.run(["curl", "-sS", "-o", os.path.join(work, "out.json"), "-w", "%{time_total}",
                                "-H", "Content-Type: application/json", "-H", "Accept: application/json, text/event-stream",
                                "-H", "Mcp-Session-Id: " + sid, "-H", "MCP-Protocol-Version: 2025-11-25",
                                "-H", "Expect:", "--data-binary", "@" + body_path, fx.url],
                               capture_output=True, text=True, check=True)
            curl_times.append(float(p.stdout))
            assert want in open(os.path.join(work, "out.json")).read()
            t0 = time.perf_counter()
            answer = b.tool("upload_data_source", {"name": "bench", "data_path": path}, timeout=120)
            bridge_times.append(time.perf_counter() - t0)
            assert test_faults.text_of(answer).startswith(want), answer
        rss = b.rss_peak_kb() / 1024
        b.close()

        enc = subprocess.run([base64_bench], capture_output=True, text=True).stdout
        line = next((l.split("encoder:")[1].strip() for l in enc.splitlines() if "encoder:" in l), "n/a")
        gbps = line.split()[0]

        c, br = statistics.median(curl_times), statistics.median(bridge_times)
        print(f"\n{mb} MB random file, {runs} runs each (alternating), medians; same fixture server on 127.0.0.1")
        print("| | wall time (ms) | peak RSS (MiB) |")
        print("|---|---:|---:|")
        print(f"| curl, pre-encoded JSON body | {c * 1000:.1f} | (not measured) |")
        print(f"| claribi-bridge, data_path | {br * 1000:.1f} | {rss:.1f} |")
        print("\nratios")
        print(f"  wall time claribi-bridge / curl = {br / c:.2f} (target <= 1.2)")
        print(f"  peak RSS claribi-bridge = {rss:.1f} MiB (target <= 24)")
        print(f"  base64 encoder = {float(gbps):.2f} GB/s of input (target >= 1); {line.split(';')[-1].strip()}")
    finally:
        fx.stop()
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
