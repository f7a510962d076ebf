#!/usr/bin/env python3
"""Hostile and restarting remotes, careless clients: the real binary keeps serving.

Usage: test_hardening.py BRIDGE_BINARY [TEST_NAME...]   (--list prints the test names)
Each test is one finding of a hardening review; it failed on the code before its fix.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_faults  # noqa: E402
from fixture_server import DEEP  # noqa: E402
from test_faults import Bridge, text_of  # noqa: E402


def _alive(b):
    assert b.proc.poll() is None, f"the bridge died (exit {b.proc.returncode}): {b.stderr[-800:]!r}"


# ---------------------------------------------------------------- nesting

def test_deep_stdin_line_is_a_parse_error_and_service_goes_on(fx):
    b = Bridge(fx.url)
    b.send_raw(b"[" * 200000 + b"\n")
    msg = b.lines.get(timeout=10)
    assert msg is not None, f"the bridge died: {b.stderr[-800:]!r}"
    assert msg["id"] is None and msg["error"]["code"] == -32700, msg
    assert "deeper than" in msg["error"]["message"], msg
    b.send_raw(b'{"jsonrpc":"2.0","id":"deep-object","method":"ping","params":' + b'{"a":' * 100000 + b"\n")
    msg = b.lines.get(timeout=10)
    assert msg is not None and msg["error"]["code"] == -32700, msg
    b.initialize()
    assert text_of(b.tool("digest", {"data": "z"})).endswith(" 1")
    _alive(b)
    b.close()
    b.check_stdout()


def test_deep_remote_bodies_are_errors_naming_the_remote(fx):
    b = Bridge(fx.url)
    b.initialize()
    for tool in ("deep", "deep_sse"):
        answer = b.tool(tool)
        _alive(b)
        err = answer.get("error")
        assert err and "deeper than" in err["message"] and "127.0.0.1" in str(err), answer
    assert text_of(b.tool("digest", {"data": "still here"})).endswith(" 10")
    b.close()
    b.check_stdout()


def test_deep_protected_resource_metadata_fails_the_login_not_the_process(fx):
    home = tempfile.mkdtemp()
    try:
        fx.state.require_auth = "Bearer never-this"
        fx.state.get_bodies["/.well-known/oauth-protected-resource/mcp"] = (200, "application/json", DEEP)
        fx.state.get_bodies["/.well-known/oauth-protected-resource"] = (200, "application/json", DEEP)
        b = Bridge(fx.url, "--credential-store", "file", "--login-timeout", "5",
                   env={"HOME": home, "XDG_CONFIG_HOME": home, "BROWSER": "false"})
        rid = b.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                       "clientInfo": {"name": "fault-tests", "version": "1"}})
        answer = b.wait_for(rid, timeout=15)
        _alive(b)
        assert "nesting deeper than" in answer["error"]["message"], answer
        b.send({"jsonrpc": "2.0", "id": "after", "method": "ping"})
        assert "error" in b.wait_for("after", timeout=15)
        _alive(b)
        b.close()
        b.check_stdout()
    finally:
        shutil.rmtree(home)


# ---------------------------------------------------------------- ids and broken HTTP

def test_huge_and_numeric_ids_are_answered(fx):
    b = Bridge(fx.url, "--max-message-mb", "1")
    b.initialize()
    # Over the message limit, with the id last: the id is found without recursion.
    b.send_raw(b'{"jsonrpc":"2.0","method":"ping","params":{"p":"' + b"x" * (1 << 20) +
               b'"},"id":"' + b"t" * 60000 + b'"}\n')
    answer = b.wait_for("t" * 60000, timeout=10)
    assert answer["error"]["code"] == -32600, str(answer)[:300]
    big = "i" * (1 << 20)  # a 1 MB id, itself over the limit
    b.send({"jsonrpc": "2.0", "id": big, "method": "ping"})
    msg = b.lines.get(timeout=10)
    assert msg is not None and msg["error"]["code"] == -32600, f"no answer: {b.stderr[-500:]!r}"
    _alive(b)
    for written, parsed in ((b"1.5", 1.5), (b"18446744073709551616", 18446744073709551616)):
        b.send_raw(b'{"jsonrpc":"2.0","id":' + written + b',"method":"ping"}\n')
        line = b.lines.get(timeout=10)
        assert line["id"] == parsed and line["error"]["code"] == -32600, line
        assert any(written in raw.encode() for raw in b.all_lines[-2:]), b.all_lines[-2:]
    assert text_of(b.tool("digest", {"data": "ok"})).endswith(" 2")
    b.close()
    b.check_stdout()


def test_broken_http_answers_report_libcurls_error(fx):
    b = Bridge(fx.url)
    b.initialize()
    for tool in ("huge_headers", "bad_chunked"):
        answer = b.tool(tool)
        message = answer["error"]["message"]
        assert "sent no answer" not in message, answer
        assert "broke off" in message, answer
    assert text_of(b.tool("digest", {"data": "ok"})).endswith(" 2")
    b.close()
    b.check_stdout()


# ---------------------------------------------------------------- stale sessions

def test_stale_session_answered_400_reinitializes(fx):
    fx.state.stale_status = 400
    b = Bridge(fx.url)
    b.initialize()
    b.tool("digest", {"data": "x"})
    fx.forget_sessions()
    keep = []
    answer = b.tool("digest", {"data": "after"}, keep=keep)
    assert text_of(answer).endswith(" 5"), answer
    inits = [m for v, m in fx.methods() if m == "initialize"]
    assert len(inits) == 2, inits
    b.close()
    b.check_stdout()


def test_a_400_that_names_no_session_is_not_a_lost_session(fx):
    b = Bridge(fx.url)
    b.initialize()
    answer = b.tool("status", {"code": 400})
    assert "HTTP 400" in answer["error"]["message"], answer
    assert [m for v, m in fx.methods()].count("initialize") == 1
    b.close()
    b.check_stdout()


def test_stale_session_after_sigstop_and_a_restart(fx):
    fx.state.stale_status = 400
    b = Bridge(fx.url)
    b.initialize()
    assert text_of(b.tool("digest", {"data": "x"})).endswith(" 1")
    port = fx.port
    b.proc.send_signal(signal.SIGSTOP)
    fx.stop()
    fx.start(port)
    fx.forget_sessions()
    b.proc.send_signal(signal.SIGCONT)
    for i in range(3):
        assert text_of(b.tool("digest", {"data": "ab"})).endswith(" 2")
    b.close()
    b.check_stdout()


# ---------------------------------------------------------------- client gone

def test_closed_stdout_ends_the_bridge_within_a_second(fx):
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([test_faults.BRIDGE, fx.url], stdin=subprocess.PIPE, stdout=write_end,
                            stderr=subprocess.PIPE)
    os.close(write_end)
    out = os.fdopen(read_end, "rb")

    def send(obj):
        proc.stdin.write(json.dumps(obj).encode() + b"\n")
        proc.stdin.flush()

    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
    assert json.loads(out.readline())["id"] == 1
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    out.close()  # the client is gone
    t0 = time.time()
    sent = 0
    try:
        while proc.poll() is None and time.time() - t0 < 5:
            send({"jsonrpc": "2.0", "id": 100 + sent, "method": "tools/call",
                  "params": {"name": "digest", "arguments": {"data": "x"}}})
            sent += 1
            time.sleep(0.05)
    except BrokenPipeError:
        pass
    proc.wait(timeout=5)
    took = time.time() - t0
    stderr = proc.stderr.read()
    assert took < 1.5, f"still running {took:.1f} s after the client left"
    assert b"closed the bridge's stdout" in stderr, stderr[-800:]
    calls = [m for v, m in fx.methods() if m == "tools/call"]
    assert len(calls) <= 3, f"{len(calls)} calls forwarded after the client left"
    assert ("DELETE", None) in fx.methods(), fx.methods()


# ---------------------------------------------------------------- upload policy

def test_hardlinks_and_control_characters_in_upload_paths_are_refused(fx):
    d = tempfile.mkdtemp()
    outside = tempfile.mkdtemp()
    try:
        secret = os.path.join(outside, "secret.csv")
        with open(secret, "wb") as f:
            f.write(b"secret,data\n")
        os.link(secret, os.path.join(d, "linked.csv"))
        with open(os.path.join(d, "ok.csv"), "wb") as f:
            f.write(b"a,b\n")
        b = Bridge(fx.url, "--upload-dir", d)
        b.initialize()
        b.wait_for(b.request("tools/list"))
        expect = {
            os.path.join(d, "linked.csv"): "hard links",
            os.path.join(d, "ok.csv") + "\u0000.txt": "control character",
            os.path.join(d, "ok.csv\n"): "control character",
        }
        for path, why in expect.items():
            answer = test_faults._upload(b, path)
            assert answer["result"].get("isError") is True, (path, answer)
            assert why in text_of(answer), (path, answer)
        assert not [e for e in fx.state.log if e[1] == "tools/call"], "a refused upload reached the remote"
        b.close()
        b.check_stdout()
        b = Bridge(fx.url, "--upload-dir", d, "--upload-allow-hardlinks")
        b.initialize()
        b.wait_for(b.request("tools/list"))
        answer = test_faults._upload(b, os.path.join(d, "linked.csv"))
        assert text_of(answer).endswith(" 12 csv"), answer
        b.close()
    finally:
        shutil.rmtree(d)
        shutil.rmtree(outside)


# ---------------------------------------------------------------- path twins without tools/list

def test_a_path_twin_called_without_tools_list_learns_the_schema_first(fx):
    d = tempfile.mkdtemp()
    try:
        with open(os.path.join(d, "sales.csv"), "wb") as f:
            f.write(b"region,amount\nnorth,12\n")
        fx.state.tools_page_size = 4
        b = Bridge(fx.url, "--upload-dir", d)
        b.initialize()
        answer = test_faults._upload(b, os.path.join(d, "sales.csv"))
        assert text_of(answer).endswith(" 23 csv"), answer
        posts = [(m, body) for v, m, _, body in fx.state.log if v == "POST"]
        lists = [body for m, body in posts if m == "tools/list"]
        assert len(lists) >= 4 and lists[-1]["params"]["cursor"], lists
        call = [body for m, body in posts if m == "tools/call"][0]
        assert "data_path" not in call["params"]["arguments"], call
        assert str(d) not in json.dumps(call), call
        # Learnt once for the session; a tool the remote does not list goes as the client sent it.
        answer = b.tool("no_such_tool", {"report_path": "/tmp/x"})
        assert answer["error"]["message"] == "unknown tool", answer
        assert [m for m, _ in [(m, b) for v, m, _, b in fx.state.log]].count("tools/list") == len(lists)
        b.close()
        b.check_stdout()
        # A listing that fails: the call is refused as a tool error, nothing reaches the remote.
        fx.state.tools_list_error = {"code": -32603, "message": "listing is broken"}
        before = len(fx.state.log)
        b = Bridge(fx.url, "--upload-dir", d)
        b.initialize()
        answer = test_faults._upload(b, os.path.join(d, "sales.csv"))
        assert answer["result"]["isError"] is True and "listing is broken" in text_of(answer), answer
        assert "tools/call" not in [m for v, m, _, _ in fx.state.log[before:]]
        b.close()
        b.check_stdout()
    finally:
        shutil.rmtree(d)


# ---------------------------------------------------------------- session ids

def test_unusable_session_ids_are_refused_not_echoed(fx):
    for sid, why in (("s" * 10000, "longer than 256 bytes"), ("abc\x01def", "visible ASCII")):
        fx.state.session_id = sid
        b = Bridge(fx.url)
        rid = b.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                       "clientInfo": {"name": "fault-tests", "version": "1"}})
        answer = b.wait_for(rid)
        assert why in answer["error"]["message"] and "broken" in answer["error"]["message"], answer
        _alive(b)
        b.close()
        b.check_stdout()
    echoed = [h.get("Mcp-Session-Id") for v, m, h, _ in fx.state.log if v in ("POST", "DELETE")]
    assert echoed == [None] * len(echoed), echoed


def main():
    test_faults.suite_main(globals())


if __name__ == "__main__":
    main()
