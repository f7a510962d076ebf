#!/usr/bin/env python3
"""OAuth logins by the real bridge against the fixture's authorization server, with the
tokens in a real gnome-keyring. Run under with-keyring.sh.

$BROWSER is tests/interop/browser-follow.sh (curl following the redirects, logging each
launch), or headless Chromium for the success page test.

Usage: test_oauth.py BRIDGE_BINARY ARTIFACT_DIR [TEST_NAME...]
"""
import fcntl
import glob
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fault"))
import test_faults  # noqa: E402
from oauth_fixture import OAuthServer  # noqa: E402
from test_faults import Bridge, text_of  # noqa: E402

BRIDGE = None
ARTIFACTS = None
FOLLOW = os.path.join(HERE, "..", "interop", "browser-follow.sh")
HOME = os.environ.get("KEYRING_HOME", os.environ.get("HOME", ""))


def cli(*args, stdin=b""):
    return subprocess.run([BRIDGE, *args], input=stdin, capture_output=True, timeout=60)


def with_oauth(fx, **kw):
    fx.state.oauth = OAuthServer(lambda: f"http://127.0.0.1:{fx.port}", **kw)
    return fx.state.oauth


def browser_env(log, delay=0):
    return {"BROWSER": FOLLOW, "BROWSER_FOLLOW_LOG": log, "BROWSER_FOLLOW_DELAY": str(delay),
            "CLARIBI_API_KEY": ""}


def launches(log):
    try:
        with open(log) as f:
            return len(f.read().splitlines())
    except FileNotFoundError:
        return 0


def forget(fx):
    cli("logout", fx.url)


def test_four_bridges_at_once_share_one_login(fx):
    oauth = with_oauth(fx)
    log = tempfile.mktemp(prefix="browser-")
    # The browser takes a second, so the other three are surely waiting on the lock.
    bridges = [Bridge(fx.url, env=browser_env(log, delay=1)) for _ in range(4)]
    try:
        answers = [None] * 4

        def session(i):
            b = bridges[i]
            b.initialize()
            answers[i] = b.tool("digest", {"data": f"bridge {i}"}, timeout=30)

        threads = [threading.Thread(target=session, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for i, a in enumerate(answers):
            assert a is not None and "result" in a, (i, a, bridges[i].stderr)
            assert len(text_of(a).split()[0]) == 64, text_of(a)
        assert launches(log) == 1, launches(log)
        assert oauth.count("authorize") == 1 and oauth.count("register") == 1, oauth.stats
        p = cli("status", fx.url)
        assert b"oauth-tokens: access token" in p.stdout, p.stdout
    finally:
        for b in bridges:
            b.close()
        forget(fx)


def test_two_second_tokens_are_refreshed_without_the_browser(fx):
    oauth = with_oauth(fx, lifetime=2)
    log = tempfile.mktemp(prefix="browser-")
    b = Bridge(fx.url, "--log-level", "debug", env=browser_env(log))
    try:
        b.initialize()
        assert launches(log) == 1, (launches(log), b.stderr)
        deadline = time.time() + 10
        calls = 0
        while time.time() < deadline:
            a = b.tool("digest", {"data": str(calls)}, timeout=10)
            assert "result" in a, a
            calls += 1
            time.sleep(0.05)
        assert launches(log) == 1, "the browser was opened again during the stream"
        assert oauth.count("refresh_token") >= 4, oauth.stats
        print(f"     {calls} calls in 10 s, {oauth.count('refresh_token')} refreshes, "
              f"{oauth.count('mcp_401')} 401s (the first is the login)")
        # Revoked refresh tokens: exactly one new login, and the call still succeeds.
        oauth.revoke_refresh_tokens()
        oauth.expire_access_tokens()
        a = b.tool("digest", {"data": "after revocation"}, timeout=20)
        assert "result" in a, (a, b.stderr)
        a = b.tool("digest", {"data": "and after that"}, timeout=20)
        assert "result" in a, a
        assert launches(log) == 2, launches(log)
        assert oauth.count("authorization_code") == 2, oauth.stats
    finally:
        b.close()
        forget(fx)


def test_tokens_codes_secrets_and_verifiers_never_reach_logs(fx):
    oauth = with_oauth(fx, token_prefix="CANARYTOK", secret_prefix="CANARYSEC", code_prefix="CANARYCODE")
    log = tempfile.mktemp(prefix="browser-")
    log_file = tempfile.mktemp(prefix="bridge-log-")
    b = Bridge(fx.url, "--log-level", "trace", "--log-file", log_file, env=browser_env(log))
    try:
        b.initialize()
        assert "result" in b.tool("digest", {"data": "x"})
        oauth.expire_access_tokens()  # a refresh, with its request and answer, at trace level
        assert "result" in b.tool("digest", {"data": "y"})
        with open(f"/proc/{b.proc.pid}/cmdline", "rb") as f:
            cmdline = f.read()
        with open(f"/proc/{b.proc.pid}/environ", "rb") as f:
            environ = f.read()
    finally:
        b.close()
    with open(log_file, "rb") as f:
        logged = f.read()
    secrets_seen = oauth.issued + oauth.verifiers
    assert len(oauth.verifiers) == 1 and oauth.count("refresh_token") == 1, oauth.stats
    assert logged and b"logged in" in logged, logged[-2000:]
    out = "\n".join(b.all_lines).encode()
    for s in secrets_seen:
        for where, text in (("stderr", b.stderr), ("log file", logged), ("stdout", out),
                            ("cmdline", cmdline), ("environ", environ)):
            assert s.encode() not in text, f"{s[:12]}... in {where}"
        # Outside the keyring, no file under HOME holds it either.
        for dirpath, _, files in os.walk(HOME):
            if "keyrings" in dirpath:
                continue
            for name in files:
                path = os.path.join(dirpath, name)
                try:
                    with open(path, "rb") as f:
                        assert s.encode() not in f.read(), f"{s[:12]}... in {path}"
                except OSError:
                    pass
    forget(fx)


def test_sibling_probe_reads_tokens_but_never_refreshes_locks_or_logs_in(fx):
    # A 2026-07-28 client spawns a throwaway bridge for server/discover, kills it, then
    # starts the session bridge. The probe must answer at once without a browser, a
    # refresh or the login lock, even when the stored access token has expired.
    oauth = with_oauth(fx, lifetime=2)
    log = tempfile.mktemp(prefix="browser-")
    first = Bridge(fx.url, env=browser_env(log))
    first.initialize()
    first.close()
    assert launches(log) == 1, launches(log)
    time.sleep(2.5)  # the stored access token is now expired; its refresh token is not
    refreshes = oauth.count("refresh_token")
    locks = glob.glob(os.path.join(os.environ["HOME"], ".local/state/claribi-bridge/locks/*.lock"))
    assert locks, "the login left no lock file to hold"
    held = [open(p, "a") for p in locks]
    for f in held:
        fcntl.flock(f, fcntl.LOCK_EX)  # a probe that reached for the lock would hang here
    try:
        probe = Bridge(fx.url, env=browser_env(log))
        meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {}}
        t0 = time.time()
        probe.send({"jsonrpc": "2.0", "id": "probe", "method": "server/discover", "params": {"_meta": meta}})
        answer = probe.wait_for("probe", timeout=5)
        took = time.time() - t0
        probe.proc.kill()
        probe.proc.wait(timeout=5)
        probe.check_stdout()
    finally:
        for f in held:
            f.close()
    assert took < 2.0, f"the probe took {took:.2f} s"
    # The expired token is presented as it is (no refresh), and its refusal is the answer.
    assert "HTTP 401" in answer.get("error", {}).get("message", ""), answer
    assert launches(log) == 1, "the probe opened the browser"
    assert oauth.count("refresh_token") == refreshes, "the probe refreshed the tokens"
    # The session bridge refreshes (no browser) and serves.
    session = Bridge(fx.url, env=browser_env(log))
    try:
        session.initialize()
        a = session.tool("digest", {"data": "after the probe"}, timeout=20)
        assert "result" in a, (a, session.stderr)
    finally:
        session.close()
    assert launches(log) == 1, launches(log)
    assert oauth.count("refresh_token") == refreshes + 1, oauth.stats
    forget(fx)


def test_success_page_in_headless_chromium(fx):
    chromium = "/usr/bin/chromium"
    assert os.path.exists(chromium), "chromium is not installed (scripts/setup installs it)"
    with_oauth(fx)
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, "oauth-success-page.png")
    if os.path.exists(shot):
        os.remove(shot)
    profile = tempfile.mkdtemp(prefix="chromium-")
    script = os.path.join(profile, "browser.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nexec %s --headless=new --no-sandbox --disable-gpu --no-first-run "
                "--user-data-dir=%s --window-size=900,600 --screenshot=%s \"$1\" >/dev/null 2>&1\n"
                % (chromium, profile, shot))
    os.chmod(script, 0o755)
    b = Bridge(fx.url, env={"BROWSER": script, "CLARIBI_API_KEY": ""})
    try:
        b.initialize()
        assert "result" in b.tool("digest", {"data": "x"})
        deadline = time.time() + 30
        while time.time() < deadline and not (os.path.exists(shot) and os.path.getsize(shot) > 0):
            time.sleep(0.2)
        with open(shot, "rb") as f:
            png = f.read()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000, len(png)
        print(f"     screenshot: {shot} ({len(png)} bytes)")
    finally:
        b.close()
        forget(fx)


def test_no_browser_prints_the_url_and_the_login_times_out(fx):
    with_oauth(fx)
    b = Bridge(fx.url, "--no-browser", "--login-timeout", "3", env={"CLARIBI_API_KEY": "", "BROWSER": "false"})
    try:
        rid = b.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                       "clientInfo": {"name": "t", "version": "1"}})
        a = b.wait_for(rid, timeout=15)
        assert "error" in a and "login-timeout" in a["error"]["message"], a
        b.send({"jsonrpc": "2.0", "id": 99, "method": "ping"})
    finally:
        b.close()
    assert b"open this URL in a browser: http://127.0.0.1:" in b.stderr, b.stderr[-1500:]
    forget(fx)


def test_login_command_manual_and_device_code(fx):
    import re
    import urllib.error
    import urllib.request
    oauth = with_oauth(fx)
    # --manual: the URL is printed; the address the browser ends on is pasted back.
    p = subprocess.Popen([BRIDGE, "login", "--manual", fx.url], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = None
    for raw in p.stderr:
        m = re.search(rb"open this URL in a browser: (\S+)", raw)
        if m:
            url = m.group(1).decode()
            break
    assert url, "no login URL printed"

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None
    try:
        urllib.request.build_opener(NoRedirect).open(url)
        raise AssertionError("the authorization server did not redirect")
    except urllib.error.HTTPError as e:
        final = e.headers["Location"]
    out, err = p.communicate(final.encode() + b"\n", timeout=30)
    assert p.returncode == 0, err
    assert b"Logged in to" in out and b"refresh token stored" in out, out
    assert oauth.count("authorization_code") == 1
    # A pasted URL from another login is refused.
    p = subprocess.run([BRIDGE, "login", "--manual", fx.url], input=b"http://127.0.0.1:1/callback?code=x&state=nope\n",
                       capture_output=True, timeout=30)
    assert p.returncode == 1 and b"state mismatch" in p.stderr, p.stderr
    # --device-code: the code is printed, the bridge polls until the user approved.
    p = cli("login", "--device-code", fx.url)
    assert p.returncode == 0, p.stderr
    assert b"enter the code WDJB-MJHT" in p.stderr, p.stderr
    assert oauth.stats.get("device_code") == 1
    b = Bridge(fx.url, env={"CLARIBI_API_KEY": "", "BROWSER": "false"})
    try:
        b.initialize()  # the device login's tokens, from the keyring: no browser needed
        assert "result" in b.tool("digest", {"data": "x"})
    finally:
        b.close()
    forget(fx)


def main():
    global BRIDGE, ARTIFACTS
    if sys.argv[1:2] == ["--list"]:
        test_faults.suite_main(globals())
        return
    BRIDGE = os.path.abspath(sys.argv[1])
    ARTIFACTS = os.path.abspath(sys.argv[2])
    test_faults.BRIDGE = BRIDGE
    test_faults.run_tests(globals(), set(sys.argv[3:]), fresh_state=False)


if __name__ == "__main__":
    main()
