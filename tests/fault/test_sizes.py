#!/usr/bin/env python3
"""Messages of every size: a large answer or request costs about its own size in memory and
arrives whole; one over the limit gets an error and service goes on.

Usage: test_sizes.py BRIDGE_BINARY [TEST_NAME...]   (--list prints the test names)
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_faults  # noqa: E402
from test_faults import Bridge, _upload, _upload_dir, text_of  # noqa: E402


def test_a_large_answer_costs_about_its_own_size(fx):
    # A 40 MB answer took three copies at once: the body, RapidJSON's copy of its longest
    # string while parsing, and the document's (peak RSS 3x the answer). The bridge now parses
    # a large answer without its long strings and forwards the body itself; a 2026-07-28
    # client's answer gets its resultType in place. A body of unknown length (an SSE event
    # here) grows by doubling as it arrives: while the last step copies, the buffer is held
    # twice, which is the rest of its bound.
    if os.environ.get("CLARIBI_SANITIZED"):
        return  # ASan's quarantine holds freed memory: resident size says nothing here
    n = 40 * 1000 * 1000
    expected = ("x" * 63 + "\n") * (n // 64)
    modern_meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                   "io.modelcontextprotocol/clientCapabilities": {},
                   "io.modelcontextprotocol/clientInfo": {"name": "fault-tests", "version": "1"}}
    for how in ("JSON", "SSE", "JSON to a 2026-07-28 client"):
        b = Bridge(fx.url)
        modern = how.endswith("client")
        if modern:
            b.wait_for(b.request("tools/list", {"_meta": modern_meta}))
        else:
            b.initialize()
        base_mb = b.rss_peak_kb() / 1024
        params = {"name": "text", "arguments": {"bytes": n, "sse": how == "SSE"}}
        if modern:
            params["_meta"] = modern_meta
        answer = b.wait_for(b.request("tools/call", params), timeout=60)
        assert text_of(answer) == expected, (how, len(text_of(answer)))
        assert answer["result"].get("resultType") == ("complete" if modern else None), how
        grown_mb = b.rss_peak_kb() / 1024 - base_mb
        answer = None
        b.close()
        b.check_stdout()
        print(f"    {how}, {len(expected) / 2**20:.1f} MiB of text: peak RSS grew {grown_mb:.1f} MiB")
        bound = (2.0 if how == "SSE" else 1.25) * len(expected) / 2**20
        assert grown_mb < bound, f"peak RSS grew {grown_mb:.0f} MiB, over {bound:.0f} ({how})"


def test_the_call_command_prints_a_large_answer_whole(fx):
    # The one-shot client prints the answer's document; a large answer's long strings were
    # left out of it (parsed with a bound, as the bridge forwards its text) and printed empty.
    n = 200 * 1000
    p = subprocess.run([test_faults.BRIDGE, "--credential-store", "file", "--no-oauth", "call", fx.url, "text",
                        json.dumps({"bytes": n})], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout)
    assert result["content"][0]["text"] == ("x" * 63 + "\n") * (n // 64) + "x" * (n % 64), len(p.stdout)


def test_30mb_stdin_message_is_forwarded_intact(fx):
    b = Bridge(fx.url)
    b.initialize()
    data = ("0123456789abcdef" * (30 * 1024 * 1024 // 16))
    answer = b.tool("digest", {"data": data}, timeout=60)
    expected = hashlib.sha256(data.encode()).hexdigest()
    assert text_of(answer) == f"{expected} {len(data)}", answer
    b.close()
    b.check_stdout()


def test_a_large_request_costs_about_its_own_size(fx):
    # A 30 MiB request raised the peak by 104 to 111 MiB: the line as it grew, RapidJSON's
    # copy of its longest string while parsing, the document's copy, and the POST body copied
    # from the line. The bridge now parses a large request without its long strings and posts
    # the line itself. The line grows by doubling as it arrives from stdin: while the last
    # step copies, the half it had is held twice (32 MiB here), which is the rest of the bound.
    if os.environ.get("CLARIBI_SANITIZED"):
        return  # ASan's quarantine holds freed memory: resident size says nothing here
    n = 40 * 1000 * 1000
    for how, data in (("plain", "0123456789abcdef" * (n // 16)),
                      # each character in this one takes one to six in the JSON text: 40 MiB
                      ("escaped", ("say \"hi\"\\\n\t\u00e9\u2028" * (n // 16))[:n * 3 // 5])):
        b = Bridge(fx.url)
        b.initialize()
        base_mb = b.rss_peak_kb() / 1024
        answer = b.tool("digest", {"data": data}, timeout=60)
        encoded = data.encode()
        assert text_of(answer) == f"{hashlib.sha256(encoded).hexdigest()} {len(encoded)}", (how, str(answer)[:300])
        grown_mb = b.rss_peak_kb() / 1024 - base_mb
        size_mib = len(json.dumps(data)) / 2**20
        b.close()
        b.check_stdout()
        print(f"    {how}, a {size_mib:.1f} MiB string: peak RSS grew {grown_mb:.1f} MiB")
        assert grown_mb < 2.0 * size_mib, f"peak RSS grew {grown_mb:.0f} MiB for {size_mib:.0f} ({how})"


def test_a_large_call_arrives_whole_where_the_bridge_rewrites_it(fx):
    # A large tools/call keeps its long strings out of its document only while it goes out
    # as its text came. Where the bridge rewrites a call (a path twin's file put in, a
    # 2026-07-28 client's envelope taken off for a 2025 remote) it parses the text whole
    # first: the long argument must arrive intact.
    long_name = "n\u00e9\"" * 100000
    want_name = hashlib.sha256(long_name.encode()).hexdigest()
    d = _upload_dir()
    try:
        path = os.path.join(d, "small.csv")
        with open(path, "wb") as f:
            f.write(b"a,b\n1,2\n")
        b = Bridge(fx.url, "--upload-dir", d)
        b.initialize()
        b.wait_for(b.request("tools/list"))
        said = text_of(_upload(b, path, name=long_name)).split()
        assert said[:2] == [hashlib.sha256(b"a,b\n1,2\n").hexdigest(), "8"], said[:3]
        assert said[3:] == [want_name], said[3:]
        b.close()
        b.check_stdout()
    finally:
        shutil.rmtree(d)
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "fault-tests", "version": "1"}}
    b = Bridge(fx.url)
    b.wait_for(b.request("tools/list", {"_meta": meta}))
    answer = b.wait_for(b.request("tools/call", {"name": "digest", "arguments": {"data": long_name},
                                                 "_meta": meta}), timeout=60)
    encoded = long_name.encode()
    assert text_of(answer) == f"{hashlib.sha256(encoded).hexdigest()} {len(encoded)}", str(answer)[:300]
    b.close()
    b.check_stdout()


def test_oversized_stdin_message_gets_an_error_then_service_goes_on(fx):
    b = Bridge(fx.url, "--max-message-mb", "1")
    b.initialize()
    big = {"jsonrpc": "2.0", "id": 77, "method": "tools/call",
           "params": {"name": "digest", "arguments": {"data": "x" * (2 * 1024 * 1024)}}}
    b.send(big)
    answer = b.wait_for(77)
    assert answer["error"]["code"] == -32600 and "1048576 bytes" in answer["error"]["message"], answer
    # id written last, as some serializers do
    b.send_raw(b'{"jsonrpc":"2.0","method":"tools/call","params":{"name":"digest","arguments":{"data":"'
               + b"y" * (2 * 1024 * 1024) + b'"}},"id":"tail-id"}\n')
    assert "error" in b.wait_for("tail-id")
    assert text_of(b.tool("digest", {"data": "ok"})).endswith(" 2")
    b.close()
    b.check_stdout()


def main():
    test_faults.suite_main(globals())


if __name__ == "__main__":
    main()
