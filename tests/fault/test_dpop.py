#!/usr/bin/env python3
"""DPoP through the real bridge: the fixture's authorization server lists ES256 and its MCP
endpoint checks every request's proof (tests/fault/dpop_fixture.py). No flag is given.

Usage: test_dpop.py BRIDGE_BINARY [TEST_NAME...]   (--list prints the test names)
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_faults  # noqa: E402
from dpop_fixture import DpopOAuthServer, check_proof  # noqa: E402
from test_faults import Bridge  # noqa: E402

FOLLOW = os.path.join(HERE, "..", "interop", "browser-follow.sh")


class Home:
    """A throwaway HOME with the file store; the browser follows the login's redirects."""

    def __init__(self):
        self.home = tempfile.mkdtemp(prefix="claribi-dpop-")
        self.env = {"HOME": self.home, "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
                    "XDG_STATE_HOME": os.path.join(self.home, ".local/state"), "BROWSER": FOLLOW,
                    "CLARIBI_API_KEY": ""}

    def bridge(self, fx):
        return Bridge(fx.url, "--credential-store", "file", env=self.env)

    def cli(self, *args):
        env = dict(os.environ)
        env.update(self.env)
        return subprocess.run([test_faults.BRIDGE, "--credential-store", "file", *args], env=env,
                              capture_output=True, timeout=60, text=True)

    def close(self):
        shutil.rmtree(self.home, ignore_errors=True)


def answers(b, ids, timeout=60.0):
    """The answers to `ids`, whatever order they come in."""
    got, want = {}, set(ids)
    while want:
        msg = b.lines.get(timeout=timeout)
        assert msg is not None, b.stderr
        if "method" not in msg and msg.get("id") in want:
            got[msg["id"]] = msg
            want.discard(msg["id"])
    return got


def test_a_thousand_calls_carry_fresh_proofs_and_no_jti_twice(fx):
    oauth = fx.state.oauth = DpopOAuthServer(lambda: f"http://127.0.0.1:{fx.port}", rotate_every=250)
    home = Home()
    b = home.bridge(fx)
    try:
        b.initialize()
        for _ in range(10):  # 1,000 calls, 100 in flight at a time
            ids = [b.request("tools/call", {"name": "digest", "arguments": {"data": str(i)}})
                   for i in range(100)]
            for rid, a in answers(b, ids).items():
                assert "result" in a and not a["result"].get("isError"), (rid, a)
        assert oauth.violations == [], oauth.violations[:5]
        assert len(oauth.jtis) == len(set(oauth.jtis)), "a jti was used twice"
        assert oauth.stats["dpop_ok"] >= 1000, oauth.stats
        # The token request asked for a nonce once; the MCP endpoint changed its nonce every
        # 250 requests, and each change cost one resend per request in flight, no login.
        assert oauth.stats["as_nonce_challenges"] == 1, oauth.stats
        assert oauth.stats["rs_nonce_challenges"] >= 4, oauth.stats
        assert oauth.count("authorization_code") == 1 and oauth.count("refresh_token") == 0, oauth.stats
        assert b.bad_lines == [], b.bad_lines
    finally:
        b.close()
        home.close()


def test_status_says_dpop_bound_and_logout_removes_the_key(fx):
    fx.state.oauth = DpopOAuthServer(lambda: f"http://127.0.0.1:{fx.port}")
    home = Home()
    try:
        login = home.cli("login", fx.url)
        assert login.returncode == 0, login.stderr
        status = home.cli("status", fx.url)
        assert "DPoP-bound" in status.stdout and "dpop-key:" in status.stdout, status.stdout
        assert "PRIVATE KEY" not in status.stdout + status.stderr + login.stderr
        out = home.cli("logout", fx.url)
        assert out.returncode == 0 and "Removed dpop-key." in out.stdout, out.stdout
        status = home.cli("status", fx.url)
        assert "dpop-key" not in status.stdout and "oauth-tokens" not in status.stdout, status.stdout
    finally:
        home.close()


def test_a_stored_login_signs_the_next_bridge_with_the_same_key(fx):
    oauth = fx.state.oauth = DpopOAuthServer(lambda: f"http://127.0.0.1:{fx.port}")
    home = Home()
    try:
        assert home.cli("login", fx.url).returncode == 0
        b = home.bridge(fx)
        try:
            b.initialize()
            a = b.tool("digest", {"data": "x"}, timeout=30)
            assert "result" in a, (a, b.stderr)
        finally:
            b.close()
        assert oauth.count("authorization_code") == 1, oauth.stats  # no second login
        assert oauth.violations == [], oauth.violations
        assert len(oauth.keys) == 1
        # The GET stream and the DELETE at exit carry proofs too, each for its own method.
        others = [(m, h) for m, rpc, h, _ in fx.state.log if m in ("GET", "DELETE") and rpc is None]
        for method in ("GET", "DELETE"):
            signed = [h for m, h in others if m == method and h.get("Authorization", "").startswith("DPoP ")]
            assert signed, (method, others)
            for h in signed:
                claims, thumb = check_proof(h["DPoP"], method, oauth.issuer + "/mcp", h["Authorization"][5:])
                assert thumb in oauth.keys and claims["jti"] not in oauth.jtis, claims
    finally:
        home.close()


def main():
    test_faults.suite_main(globals())


if __name__ == "__main__":
    main()
