#!/usr/bin/env python3
"""The flags users of mcp-remote rely on, against the fixture server (and its authorization
server): extra authorization parameters, the RFC 8707 resource (omitted, or chosen and kept
apart), the callback's host and path, connect timeouts, keep-alive pings and cookies.

Logins use the file store under a throwaway HOME and tests/interop/browser-follow.sh as the
browser (curl following the redirects, as a browser whose user is signed in).

Usage: test_flags.py BRIDGE_BINARY [TEST_NAME...]   (--list prints the test names)
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_faults  # noqa: E402
from oauth_fixture import OAuthServer  # noqa: E402
from test_faults import Bridge, text_of  # noqa: E402

FOLLOW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop", "browser-follow.sh")


class Home:
    """A throwaway HOME with the file store; the browser follows the login's redirects."""

    def __init__(self, browser=FOLLOW):
        self.dir = tempfile.mkdtemp(prefix="claribi-flags-")
        self.env = {"HOME": self.dir, "XDG_CONFIG_HOME": os.path.join(self.dir, ".config"),
                    "XDG_STATE_HOME": os.path.join(self.dir, ".local/state"), "BROWSER": browser,
                    "CLARIBI_API_KEY": ""}

    def bridge(self, fx, *flags):
        return Bridge(fx.url, "--credential-store", "file", "--login-timeout", "20", *flags, env=self.env)

    def login(self, fx, *flags):
        env = dict(os.environ)
        env.update(self.env)
        return subprocess.run([test_faults.BRIDGE, "--credential-store", "file", "login", *flags, fx.url],
                              capture_output=True, timeout=60, env=env)

    def accounts(self):
        path = os.path.join(self.dir, ".local/state/claribi-bridge/credentials.json")
        with open(path) as f:
            return sorted(json.load(f)["entries"])

    def files_holding(self, needle):
        found = []
        for root, _, files in os.walk(self.dir):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    if needle in f.read():
                        found.append(name)
        return found

    def close(self):
        shutil.rmtree(self.dir)


def with_oauth(fx, **kw):
    fx.state.oauth = OAuthServer(lambda: f"http://127.0.0.1:{fx.port}", **kw)
    return fx.state.oauth


def blackhole():
    """A listening socket whose accept queue is full: connections to it hang in SYN-SENT, as
    behind a firewall that drops packets. Returns (socket, fillers, port)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(0)
    port = s.getsockname()[1]
    fillers = []
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(c)
    time.sleep(0.2)
    return s, fillers, port


def pings(fx):
    with fx.state.lock:
        return [(h.get("Mcp-Session-Id"), body["id"]) for verb, m, h, body in fx.state.log
                if verb == "POST" and m == "ping"]


# ---------------------------------------------------------------- the flags

def test_bad_flag_values_are_clear_errors(fx):
    cases = [
        (["--authorize-param", "state=x"], b"cannot set 'state'"),
        (["--authorize-param", "redirect_uri=http://evil"], b"--callback-host"),
        (["--authorize-param", "resource=https://x"], b"--resource"),
        (["--authorize-param", "Scope=x"], b"--scope"),
        (["--authorize-param", "prompt"], b"KEY=VALUE"),
        (["--authorize-param", "prompt=login", "--authorize-param", "prompt=consent"], b"twice"),
        (["--callback-host", "example.com"], b"127.0.0.1 or localhost"),
        (["--callback-host", "0.0.0.0"], b"127.0.0.1 or localhost"),
        (["--callback-path", "callback"], b"must start with '/'"),
        (["--callback-path", "/cb?x=1"], b"no query"),
        (["--resource", "https://tenant.example/mcp#x"], b"without a fragment"),
        (["--resource", "tenant-b"], b"http or https URL"),
        (["--ping-interval", "0.5"], b"at least 1 second"),
        (["--ping-interval", "-1"], b"--ping-interval"),
        (["--connect-timeout", "0"], b"--connect-timeout"),
        (["--connect-timeout", "soon"], b"--connect-timeout"),
    ]
    for flags, expected in cases:
        p = subprocess.run([test_faults.BRIDGE, *flags, "run", fx.url], input=b"", capture_output=True,
                           timeout=10)
        assert p.returncode != 0 and expected in p.stderr, (flags, p.returncode, p.stderr)
        assert p.stdout == b"", (flags, p.stdout)
    assert not fx.methods(), "a refused command line reached the remote"
    p = subprocess.run([test_faults.BRIDGE, "--help"], capture_output=True, timeout=10)
    for flag in (b"--authorize-param", b"--no-resource-param", b"--resource", b"--callback-host",
                 b"--callback-path", b"--connect-timeout", b"--ping-interval", b"--no-cookies"):
        assert flag in p.stdout, flag


def test_authorize_params_and_callback_host_and_path_reach_the_authorization_server(fx):
    oauth = with_oauth(fx)
    home = Home()
    try:
        b = home.bridge(fx, "--callback-host", "localhost", "--callback-path", "/oauth/cb",
                        "--authorize-param", "prompt=consent",
                        "--authorize-param", "domain_hint=a b&c=d/é+%41")
        b.initialize()
        assert "result" in b.tool("digest", {"data": "x"}, timeout=20)
        b.close()
        b.check_stdout()
        assert len(oauth.authorize_queries) == 1, oauth.authorize_queries
        q = oauth.authorize_queries[0]
        assert q["prompt"] == "consent", q
        assert q["domain_hint"] == "a b&c=d/é+%41", q  # encoded once, decoded intact
        assert "c" not in q, q
        port = q["redirect_uri"].split(":")[2].split("/")[0]
        assert q["redirect_uri"] == f"http://localhost:{port}/oauth/cb", q
        registered = next(iter(oauth.clients.values()))["redirect_uris"]
        assert registered == [q["redirect_uri"]], registered
        assert oauth.count("authorization_code") == 1
    finally:
        home.close()


def test_no_resource_param_omits_it_from_authorization_token_and_refresh(fx):
    oauth = with_oauth(fx)
    home = Home()
    try:
        b = home.bridge(fx, "--no-resource-param")
        b.initialize()
        oauth.expire_access_tokens()  # the next call is refused: a refresh
        assert "result" in b.tool("digest", {"data": "x"}, timeout=20)
        b.close()
        assert oauth.count("authorization_code") == 1 and oauth.count("refresh_token") == 1, oauth.stats
        assert all("resource" not in q for q in oauth.authorize_queries), oauth.authorize_queries
        assert all("resource" not in f for f in oauth.token_forms), oauth.token_forms
        # Without the flag the resource goes in each (so the test above can fail).
        oauth.authorize_queries.clear()
        oauth.token_forms.clear()
        home.login(fx)
        assert oauth.authorize_queries[0]["resource"] == fx.url, oauth.authorize_queries
        assert oauth.token_forms[0]["resource"] == fx.url, oauth.token_forms
    finally:
        home.close()


def test_resource_keeps_a_separate_login_and_is_what_is_sent(fx):
    oauth = with_oauth(fx)
    home = Home()
    server = fx.url
    tenant_a, tenant_b = "https://tenant-a.example/mcp", "https://tenant-b.example/mcp"
    try:
        p = home.login(fx)
        assert p.returncode == 0, p.stderr
        # Without --resource, the names are those the bridge always used.
        assert home.accounts() == [f"{server}#oauth-client", f"{server}#oauth-tokens"], home.accounts()
        for tenant in (tenant_a, tenant_b):
            p = home.login(fx, "--resource", tenant)
            assert p.returncode == 0, p.stderr
            assert oauth.authorize_queries[-1]["resource"] == tenant, oauth.authorize_queries[-1]
            assert oauth.token_forms[-1]["resource"] == tenant, oauth.token_forms[-1]
        assert oauth.count("authorization_code") == 3, oauth.stats
        assert home.accounts() == sorted([
            f"{server}#oauth-client", f"{server}#oauth-tokens",
            f"{server}#resource={tenant_a}#oauth-client", f"{server}#resource={tenant_a}#oauth-tokens",
            f"{server}#resource={tenant_b}#oauth-client", f"{server}#resource={tenant_b}#oauth-tokens"]), \
            home.accounts()
        # Each login is used by its own bridge: no new login.
        for flags in ((), ("--resource", tenant_a), ("--resource", tenant_b + "/")):
            b = home.bridge(fx, *flags)
            b.initialize()
            assert "result" in b.tool("digest", {"data": "x"})
            b.close()
        assert oauth.count("authorize") == 3, oauth.stats
        # logout with --resource forgets that tenant only.
        env = dict(os.environ)
        env.update(home.env)
        p = subprocess.run([test_faults.BRIDGE, "--credential-store", "file", "logout", "--resource", tenant_a,
                            server], capture_output=True, timeout=30, env=env)
        assert p.returncode == 0, p.stderr
        assert f"Logged out of {server}#resource={tenant_a}.".encode() in p.stdout, p.stdout
        assert not [a for a in home.accounts() if tenant_a in a], home.accounts()
        assert f"{server}#oauth-tokens" in home.accounts() and \
            f"{server}#resource={tenant_b}#oauth-tokens" in home.accounts(), home.accounts()
        # Without --resource, logout forgets the server's logins, each named.
        p = subprocess.run([test_faults.BRIDGE, "--credential-store", "file", "logout", server],
                           capture_output=True, timeout=30, env=env)
        assert p.returncode == 0, p.stderr
        assert f"Removed oauth-tokens of {server}#resource={tenant_b}.".encode() in p.stdout, p.stdout
        assert home.accounts() == [], home.accounts()
    finally:
        home.close()


def test_connect_timeout_bounds_the_remote_and_the_oauth_connections(fx):
    hole, fillers, port = blackhole()
    try:
        # The remote: every attempt (the first and three more) waits 1 s, not 10.
        b = Bridge(f"http://127.0.0.1:{port}/mcp", "--connect-timeout", "1", env={"CLARIBI_API_KEY": ""})
        t0 = time.time()
        rid = b.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                       "clientInfo": {"name": "t", "version": "1"}})
        answer = b.wait_for(rid, timeout=30)
        took = time.time() - t0
        assert "error" in answer and "cannot reach" in answer["error"]["message"], answer
        assert took < 9, f"the answer took {took:.1f} s"
        b.close()
        b.check_stdout()
        # The OAuth client: the authorization server named by the metadata is the black hole.
        with_oauth(fx, authorization_server=f"http://127.0.0.1:{port}")
        home = Home(browser="false")
        try:
            b = home.bridge(fx, "--connect-timeout", "1")
            t0 = time.time()
            rid = b.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                           "clientInfo": {"name": "t", "version": "1"}})
            answer = b.wait_for(rid, timeout=40)
            took = time.time() - t0
            b.close()
            assert "error" in answer and f"127.0.0.1:{port}" in answer["error"]["message"], answer
            assert took < 8, f"the login failed after {took:.1f} s (30 s without --connect-timeout)"
        finally:
            home.close()
    finally:
        for c in fillers:
            c.close()
        hole.close()


def test_pings_arrive_while_idle_and_never_when_off(fx):
    b = Bridge(fx.url, "--ping-interval", "1")
    b.initialize()
    time.sleep(3.5)
    seen = pings(fx)
    assert 2 <= len(seen) <= 4, seen
    sid = [h.get("Mcp-Session-Id") for v, m, h, _ in fx.state.log if m == "notifications/initialized"][0]
    assert sid and all(s == sid for s, _ in seen), (seen, sid)
    assert all(str(i).startswith("claribi-bridge-ping-") for _, i in seen), seen
    # Busy is not idle: no ping while a call is in flight (3 would go in 3.5 s; one may go
    # in the moment between the answer and this count).
    before = len(pings(fx))
    assert text_of(b.tool("sleep", {"seconds": 3.5}, timeout=10)) == "slept"
    assert len(pings(fx)) - before <= 1, pings(fx)
    # The pings' answers stay in the bridge.
    assert text_of(b.tool("digest", {"data": "abc"})).endswith(" 3")
    b.close()
    b.check_stdout()
    assert not [line for line in b.all_lines if "claribi-bridge-ping" in line], b.all_lines
    # Off by default.
    fx.state.log.clear()
    b = Bridge(fx.url)
    b.initialize()
    time.sleep(2.5)
    b.close()
    assert pings(fx) == [], pings(fx)


def test_cookies_are_sent_back_unless_no_cookies(fx):
    fx.state.set_cookie = "lb=node-7; Path=/; HttpOnly"
    home = Home(browser="false")
    try:
        for flags, expect in (((), "lb=node-7"), (("--no-cookies",), None)):
            with fx.state.lock:
                fx.state.log.clear()
            b = Bridge(fx.url, *flags, env=home.env)
            b.initialize()
            assert "result" in b.tool("digest", {"data": "x"})
            # The GET stream opens beside the first call, on a connection of its own: let it
            # reach the server before the session ends.
            deadline = time.time() + 10
            while time.time() < deadline:
                with fx.state.lock:
                    if any(v == "GET" for v, *_ in fx.state.log):
                        break
                time.sleep(0.01)
            b.close()
            b.check_stdout()
            with fx.state.lock:
                log = list(fx.state.log)
            init = [h for v, m, h, _ in log if m == "initialize"]
            assert init and "Cookie" not in init[0], init
            later = [(v, m, h.get("Cookie")) for v, m, h, _ in log
                     if m not in ("initialize", "server/discover") and v != "ACK"]
            assert {v for v, _, _ in later} >= {"POST", "GET", "DELETE"}, later
            assert all(c == expect for _, _, c in later), (flags, later)
        assert home.files_holding(b"node-7") == [], "the cookie was written to disk"
    finally:
        home.close()


def main():
    test_faults.suite_main(globals())


if __name__ == "__main__":
    main()
