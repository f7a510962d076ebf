#!/usr/bin/env python3
"""The remote's era remembered across restarts (daemon/era_cache.hpp): a second start skips
server/discover, a stale verdict is found out and put right without the client seeing a
failure, and what must not be remembered is not. Each test has its own XDG_STATE_HOME
(test_faults.run_tests), where the verdicts live under claribi-bridge/era/.

Usage: test_era_cache.py BRIDGE_BINARY [TEST_NAME...]   (--list prints the test names)
"""
import hashlib
import json
import os
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_faults  # noqa: E402
from test_faults import Bridge, text_of  # noqa: E402

MODERN_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
               "io.modelcontextprotocol/clientCapabilities": {},
               "io.modelcontextprotocol/clientInfo": {"name": "era-tests", "version": "1"}}


def era_dir():
    return os.path.join(os.environ["XDG_STATE_HOME"], "claribi-bridge", "era")


def verdict_path(fx):
    """The file of the fixture's verdict: the state dir rule of the lock files, keyed by
    origin and path."""
    key = f"http://127.0.0.1:{fx.port}/mcp".encode()
    return os.path.join(era_dir(), hashlib.sha256(key).hexdigest()[:24] + ".json")


def read_verdict(fx):
    with open(verdict_path(fx)) as f:
        return json.load(f)


def write_verdict(fx, text):
    os.makedirs(era_dir(), exist_ok=True)
    with open(verdict_path(fx), "w") as f:
        f.write(text)


def posts(fx):
    return [m for verb, m in fx.methods() if verb == "POST"]


def clear_log(fx):
    with fx.state.lock:
        fx.state.log.clear()


def session(fx, *flags):
    """A 2025 client: initialize, one tool call, exit. Returns the initialize answer."""
    b = Bridge(fx.url, "--log-level", "info", *flags)
    init = b.initialize()
    assert text_of(b.tool("digest", {"data": "abc"})).endswith(" 3")
    b.close()
    b.check_stdout()
    return init, b


# ---------------------------------------------------------------- tests

def test_second_start_skips_server_discover(fx):
    session(fx)
    assert posts(fx).count("server/discover") == 1, posts(fx)
    v = read_verdict(fx)
    assert v["era"] == "2025" and v["revision"] == "2025-11-25", v
    assert abs(v["learnt_at"] - time.time()) < 60, v
    assert stat.S_IMODE(os.stat(verdict_path(fx)).st_mode) == 0o600
    assert os.listdir(era_dir()) == [os.path.basename(verdict_path(fx))]  # nothing else
    clear_log(fx)
    _, b = session(fx)
    assert "server/discover" not in posts(fx), posts(fx)
    assert posts(fx)[0] == "initialize", posts(fx)
    assert b"no server/discover unless it answers otherwise" in b.stderr, b.stderr


def test_a_probe_only_start_writes_the_verdict_too(fx):
    # Claude Desktop's throwaway probe: spawn, initialize, tools/list, exit.
    b = Bridge(fx.url)
    b.initialize()
    assert "result" in b.wait_for(b.request("tools/list"))
    b.close()
    assert read_verdict(fx)["era"] == "2025"
    clear_log(fx)
    b = Bridge(fx.url)
    b.initialize()
    b.wait_for(b.request("tools/list"))
    b.close()
    assert posts(fx)[:2] == ["initialize", "notifications/initialized"], posts(fx)


def test_stale_2025_verdict_server_now_modern_only(fx):
    write_verdict(fx, json.dumps({"v": 1, "era": "2025", "revision": "2025-11-25",
                                  "learnt_at": int(time.time()) - 60}))
    fx.state.modern_only = True
    init, b = session(fx)
    assert init["result"]["serverInfo"]["name"] == "fixture-modern", init
    assert init["result"]["protocolVersion"] == "2025-11-25", init
    # The 2025 initialize refused as a modern-only server does, then the probe, then the
    # call in 2026-07-28; the client saw neither the refusal nor the probe.
    p = posts(fx)
    assert p[:2] == ["initialize", "server/discover"], p
    assert p.count("tools/call") == 1, p
    assert not any(m in ("DELETE", "GET") for m in p), p
    assert read_verdict(fx)["era"] == "2026-07-28"
    assert b"unlike the era remembered" in b.stderr, b.stderr


def test_stale_modern_verdict_server_is_2025_modern_client(fx):
    write_verdict(fx, json.dumps({"v": 1, "era": "2026-07-28", "learnt_at": int(time.time())}))
    b = Bridge(fx.url, "--log-level", "info")
    # A 2026-07-28 client's first request goes out modern at once; the 2025 fixture answers it
    # without a session (404), the bridge asks, opens a session and sends it again.
    rid = b.request("tools/list", {"_meta": MODERN_META})
    answer = b.wait_for(rid)
    assert any(t["name"] == "digest" for t in answer["result"]["tools"]), answer
    answer = b.wait_for(b.request("tools/call", {"name": "digest", "arguments": {"data": "ab"},
                                                  "_meta": MODERN_META}))
    assert text_of(answer).endswith(" 2"), answer
    b.close()
    b.check_stdout()
    p = posts(fx)
    assert p[:3] == ["tools/list", "server/discover", "initialize"], p
    assert p.count("tools/list") == 2, p
    assert read_verdict(fx)["era"] == "2025", read_verdict(fx)
    assert b"unlike the era remembered" in b.stderr, b.stderr


def test_remembered_modern_verdict_a_2025_client_still_probes(fx):
    # A 2025 client of a modern remote is answered from server/discover: the probe is its
    # one round trip. Against a 2025 remote the probe puts the verdict right.
    write_verdict(fx, json.dumps({"v": 1, "era": "2026-07-28", "learnt_at": int(time.time())}))
    session(fx)
    assert posts(fx)[:2] == ["server/discover", "initialize"], posts(fx)
    assert read_verdict(fx)["era"] == "2025"


def test_remembered_modern_verdict_holds_for_a_modern_server(fx):
    fx.state.modern_only = True
    b = Bridge(fx.url)
    b.wait_for(b.request("tools/list", {"_meta": MODERN_META}))
    b.close()
    assert posts(fx) == ["server/discover", "tools/list"], posts(fx)
    assert read_verdict(fx)["era"] == "2026-07-28"
    clear_log(fx)
    b = Bridge(fx.url)
    answer = b.wait_for(b.request("tools/list", {"_meta": MODERN_META}))
    assert "result" in answer, answer
    b.close()
    assert posts(fx) == ["tools/list"], posts(fx)


def test_expired_garbage_or_oversized_verdicts_are_ignored(fx):
    cases = [
        json.dumps({"v": 1, "era": "2025", "learnt_at": int(time.time()) - 86400}),
        json.dumps({"v": 1, "era": "2025", "learnt_at": int(time.time()) + 86400}),
        "not json at all \x00\x01",
        json.dumps({"v": 1, "era": "2025", "learnt_at": int(time.time())}) + " " * 5000,
        json.dumps({"v": 1, "era": "2024", "learnt_at": int(time.time())}),
    ]
    for text in cases:
        write_verdict(fx, text)
        clear_log(fx)
        session(fx)
        assert posts(fx)[0] == "server/discover", (text[:60], posts(fx))
        assert read_verdict(fx)["era"] == "2025", text[:60]


def test_pinned_protocol_neither_reads_nor_writes(fx):
    session(fx, "--protocol", "2025")
    assert not os.path.exists(verdict_path(fx))
    write_verdict(fx, json.dumps({"v": 1, "era": "2025", "learnt_at": int(time.time())}))
    clear_log(fx)
    b = Bridge(fx.url, "--protocol", "2026")
    rid = b.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                   "clientInfo": {"name": "t", "version": "1"}})
    answer = b.wait_for(rid)
    b.close()
    assert "error" in answer, answer  # the pin asked, and the remote is not modern
    assert posts(fx) == ["server/discover"], posts(fx)


def test_no_verdict_for_want_of_credentials(fx):
    fx.state.require_auth = "Bearer right"
    b = Bridge(fx.url, "--no-oauth", env={"CLARIBI_API_KEY": ""})
    rid = b.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                   "clientInfo": {"name": "t", "version": "1"}})
    b.wait_for(rid, timeout=20)
    b.close()
    assert "server/discover" in posts(fx), posts(fx)
    assert not os.path.exists(verdict_path(fx)), open(verdict_path(fx)).read()


def main():
    test_faults.suite_main(globals())


if __name__ == "__main__":
    main()
