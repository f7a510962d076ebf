#!/usr/bin/env python3
"""A new clariBI user: no key, no flags, no browser. The bridge's own requests never start a
login, a login starts only when the client's request is refused, and a tool that needs
credentials nobody can get is a tool error the model can explain.

Usage: test_onboarding.py BRIDGE_BINARY [TEST_NAME...]   (--list prints the test names)
"""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_faults  # noqa: E402
from test_faults import Bridge, text_of  # noqa: E402

SIGNUP = {"verify_email", "register_account", "check_pricing"}


class NewUser:
    """A fresh HOME with the file store, and a browser that only records that it was called."""

    def __init__(self):
        self.home = tempfile.mkdtemp(prefix="claribi-home-")
        self.marker = os.path.join(self.home, "browser-was-opened")
        self.browser = os.path.join(self.home, "browser.sh")
        with open(self.browser, "w") as f:
            f.write(f"#!/bin/sh\necho \"$@\" >> {self.marker}\nexit 1\n")
        os.chmod(self.browser, 0o755)
        self.env = {"HOME": self.home, "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
                    "XDG_STATE_HOME": os.path.join(self.home, ".local/state"), "BROWSER": self.browser}

    def bridge(self, fx, *flags):
        return Bridge(fx.url, "--credential-store", "file", "--login-timeout", "5", *flags, env=self.env)

    def browser_opened(self):
        return os.path.exists(self.marker)

    def close(self):
        shutil.rmtree(self.home)


def _clariBI(fx):
    fx.state.public_tools = set(SIGNUP)
    fx.state.extra_tools = ["register_account", "check_pricing"]


def test_a_probe_refused_for_credentials_falls_back_to_initialize(fx):
    _clariBI(fx)
    user = NewUser()
    try:
        b = user.bridge(fx)
        b.initialize()
        methods = [m for v, m in fx.methods() if v == "POST"]
        assert methods[:2] == ["server/discover", "initialize"], methods
        assert "result" in b.wait_for(b.request("tools/list"))
        answer = b.tool("register_account", {"email": "new@example.com"})
        assert "result" in answer, answer
        minted = b.tool("verify_email", {"pending_id": "p1", "code": "123456"})
        assert "result" in minted, minted
        assert text_of(b.tool("digest", {"data": "abc"})).endswith(" 3")  # with the minted token
        token_uses = [h.get("Authorization") for v, m, h, _ in fx.state.log if m == "tools/call"]
        assert token_uses[-1] == "Bearer " + fx.state.minted_token, "the session uses the access token"
        fx.state.minted_token = None  # the access token expires: the minted key takes over
        assert text_of(b.tool("digest", {"data": "abcd"})).endswith(" 4")
        assert fx.state.log[-1][2].get("Authorization") == "Bearer " + fx.state.minted_key
        b.close()
        b.check_stdout()
        assert not user.browser_opened(), "a browser was opened"
        assert fx.state.minted_key.encode() not in b.stderr
        # The next conversation: the stored key, no prompt, no browser.
        b = user.bridge(fx)
        b.initialize()
        assert text_of(b.tool("digest", {"data": "x"})).endswith(" 1")
        b.close()
        b.check_stdout()
        assert not user.browser_opened(), "a browser was opened"
    finally:
        user.close()


def test_a_tool_that_needs_credentials_nobody_can_get_is_a_tool_error(fx):
    _clariBI(fx)
    user = NewUser()
    try:
        for flags in (("--no-oauth",), ()):  # no OAuth; OAuth but no registration anywhere
            b = user.bridge(fx, *flags)
            b.initialize()
            answer = b.tool("digest", {"data": "abc"}, timeout=20)
            assert answer.get("result", {}).get("isError") is True, (flags, answer)
            text = text_of(answer)
            assert "register_account" in text and "key set" in text, text
            assert "result" in b.tool("check_pricing", {}), "the signup tools stay usable"
            b.close()
            b.check_stdout()
        assert not user.browser_opened(), "a browser was opened"
    finally:
        user.close()


def main():
    test_faults.suite_main(globals())


if __name__ == "__main__":
    main()
