#!/usr/bin/env python3
"""The credential commands and the bridge's use of stored secrets, against a real
gnome-keyring. Run under with-keyring.sh (a private D-Bus session and a temporary HOME).

Usage: test_keyring_cli.py BRIDGE_BINARY [TEST_NAME...]
"""
import json
import os
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fault"))
import test_faults  # noqa: E402
from test_faults import Bridge, text_of  # noqa: E402

BRIDGE = None
CANARY = "claribi_mcp_CANARY_keyring_5f0e9d8c7b6a"
HOME = os.environ.get("KEYRING_HOME", os.environ.get("HOME", ""))
KEYRING_DIR = os.path.join(HOME, ".local", "share", "keyrings")


def cli(*args, stdin=b"", env=None):
    full_env = {k: v for k, v in os.environ.items() if k != "CLARIBI_API_KEY"}
    full_env.update(env or {})
    return subprocess.run([BRIDGE, *args], input=stdin, capture_output=True, timeout=60, env=full_env)


def clean_env():
    return {"CLARIBI_API_KEY": ""}


def files_containing(root, needle, skip_dir):
    hits = []
    for dirpath, _, files in os.walk(root):
        if os.path.abspath(dirpath).startswith(os.path.abspath(skip_dir)):
            continue
        for f in files:
            path = os.path.join(dirpath, f)
            try:
                with open(path, "rb") as fh:
                    if needle in fh.read():
                        hits.append(path)
            except OSError:
                pass
    return hits


def children_of(pid):
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return kids


# ---------------------------------------------------------------- tests

def test_canary_key_from_the_keychain_is_used_and_never_leaks(fx):
    p = cli("key", "set", fx.url, stdin=CANARY.encode() + b"\n")
    assert p.returncode == 0, p
    assert CANARY.encode() not in p.stdout + p.stderr, "key set echoed the key"
    assert CANARY[-4:].encode() in p.stdout  # masked confirmation
    fx.state.require_auth = "Bearer " + CANARY
    log_file = os.path.join(HOME, "bridge.log")
    try:
        b = Bridge(fx.url, "--log-level", "trace", "--log-file", log_file, env=clean_env())
        b.initialize()
        assert text_of(b.tool("digest", {"data": "k"})).endswith(" 1")
        seen = [open(f"/proc/{b.proc.pid}/cmdline", "rb").read()]
        for child in children_of(b.proc.pid):
            for what in ("cmdline", "environ"):
                try:
                    seen.append(open(f"/proc/{child}/{what}", "rb").read())
                except OSError:
                    pass
        b.tool("status", {"code": 401})
        b.close()
        b.check_stdout()
        assert all(CANARY.encode() not in s for s in seen), "the key is in a command line or environment"
        assert CANARY.encode() not in b.stderr, "the key reached stderr"
        assert not any(CANARY in line for line in b.all_lines), "the key reached stdout"
        log = open(log_file, "rb").read()
        assert b"using the API key stored in the keychain" in log, log
        assert CANARY.encode() not in log, "the key reached the log file"
        leaked = files_containing(HOME, CANARY.encode(), KEYRING_DIR)
        assert not leaked, f"the key is in files outside the keyring: {leaked}"
        assert os.listdir(KEYRING_DIR), "the keyring holds nothing?"
    finally:
        fx.state.require_auth = None
        cli("logout", fx.url)


def test_verify_email_key_is_stored_used_and_hidden_from_the_client(fx):
    b = Bridge(fx.url, "--log-level", "debug", env=clean_env())
    b.initialize()
    answer = b.tool("verify_email", {"pending_id": "p1", "code": "123456", "password": "pw"})
    key, token = fx.state.minted_key, fx.state.minted_token
    shown = json.dumps(answer)
    assert key not in shown and token not in shown, "a minted credential reached the client"
    assert "stored in the OS keychain" in text_of(answer), answer
    assert answer["result"]["structuredContent"]["workspace"]["plan"] == "trial"
    # From now on the remote wants the access token for this session.
    fx.state.require_auth = {"Bearer " + token}
    assert text_of(b.tool("digest", {"data": "ab"})).endswith(" 2")
    b.close()
    b.check_stdout()
    assert key.encode() not in b.stderr and token.encode() not in b.stderr
    try:
        # A new session uses the stored key.
        fx.state.require_auth = "Bearer " + key
        b = Bridge(fx.url, env=clean_env())
        b.initialize()
        assert text_of(b.tool("digest", {"data": "abc"})).endswith(" 3")
        b.close()
        p = cli("status", fx.url)
        assert p.returncode == 0, p
        assert ("api-key: ****" + key[-4:]).encode() in p.stdout, p.stdout
        assert key.encode() not in p.stdout
        assert b"reachable (HTTP" in p.stdout, p.stdout
    finally:
        fx.state.require_auth = None
        cli("logout", fx.url)


def test_env_placeholder_means_unset_and_encrypted_is_refused(fx):
    assert cli("key", "set", fx.url, stdin=b"claribi_mcp_stored_0123456789\n").returncode == 0
    fx.state.require_auth = "Bearer claribi_mcp_stored_0123456789"
    try:
        b = Bridge(fx.url, env={"CLARIBI_API_KEY": "${user_config.api_key}"})
        b.initialize()
        b.close()
        # The environment beats the keychain.
        fx.state.require_auth = "Bearer claribi_mcp_from_the_env_000"
        b = Bridge(fx.url, env={"CLARIBI_API_KEY": "claribi_mcp_from_the_env_000"})
        b.initialize()
        b.close()
        b = Bridge(fx.url, env={"CLARIBI_API_KEY": "__encrypted__:c2VjcmV0"})
        for _ in range(2):  # every request is told, and the bridge keeps serving
            rid = b.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                           "clientInfo": {"name": "t", "version": "1"}})
            err = b.wait_for(rid)["error"]["message"]
            assert "failed to decrypt" in err and "c2VjcmV0" not in err, err
        assert b.close() < 2
        b.check_stdout()
    finally:
        fx.state.require_auth = None
        cli("logout", fx.url)


def test_key_remove_and_logout(fx):
    assert cli("key", "set", fx.url, stdin=b"claribi_mcp_remove_me_0123\n").returncode == 0
    p = cli("key", "remove", fx.url)
    assert p.returncode == 0 and b"Removed the API key" in p.stdout, p
    p = cli("key", "remove", fx.url)
    assert p.returncode == 0 and b"No API key is stored" in p.stdout, p
    assert cli("key", "set", fx.url + "/", stdin=b"claribi_mcp_again_0123456\n").returncode == 0
    p = cli("status")
    assert fx.url.rstrip("/").encode() in p.stdout and b"****3456" in p.stdout, p.stdout
    p = cli("logout", fx.url)
    assert p.returncode == 0 and b"Logged out" in p.stdout, p
    p = cli("status", fx.url)
    assert b"nothing stored" in p.stdout, p.stdout


def test_key_is_never_taken_from_an_argument_and_empty_input_is_refused(fx):
    p = cli("key", "set", fx.url, "claribi_mcp_on_the_command_line")
    assert p.returncode != 0, p
    p = cli("key", "set", fx.url, stdin=b"\n")
    assert p.returncode != 0 and b"no key given" in p.stderr, p


def test_claribi_url_warns_about_a_key_of_the_wrong_shape(fx):
    p = cli("key", "set", "https://claribi.com/mcp/v1/", stdin=b"sk-not-a-claribi-key-123\n")
    assert p.returncode == 0 and b"claribi_mcp_" in p.stderr, p
    cli("logout", "https://claribi.com/mcp/v1")


def test_no_dbus_gives_a_clear_error_and_the_bridge_still_serves(fx):
    env = {"DBUS_SESSION_BUS_ADDRESS": "", "XDG_RUNTIME_DIR": "/nonexistent"}
    p = cli("status", env=env)
    assert p.returncode == 1 and b"no D-Bus session bus" in p.stdout, p
    p = cli("key", "set", fx.url, stdin=b"claribi_mcp_x_0123456789\n", env=env)
    assert p.returncode == 1 and b"no D-Bus session bus" in p.stderr and b"--credential-store file" in p.stderr, p
    b = Bridge(fx.url, env={**env, "CLARIBI_API_KEY": ""})
    b.initialize()
    assert text_of(b.tool("digest", {"data": "z"})).endswith(" 1")
    b.close()
    assert b"no D-Bus session bus" in b.stderr, b.stderr


def test_file_store_only_when_asked_with_mode_0600_and_a_warning(fx):
    path = os.path.join(HOME, ".local", "state", "claribi-bridge", "credentials.json")
    p = cli("--credential-store", "file", "key", "set", fx.url, stdin=b"claribi_mcp_in_a_file_0123\n")
    assert p.returncode == 0 and b"plain file" in p.stderr, p
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    fx.state.require_auth = "Bearer claribi_mcp_in_a_file_0123"
    try:
        b = Bridge(fx.url, "--credential-store", "file", env=clean_env())
        b.initialize()
        b.close()
        assert b"plain file" in b.stderr
        # The keychain was not touched: it has nothing for this server.
        p = cli("status", fx.url)
        assert b"nothing stored" in p.stdout, p.stdout
        os.chmod(path, 0o644)
        p = cli("--credential-store", "file", "status", fx.url)
        assert p.returncode == 1 and b"chmod 600" in p.stdout, p
    finally:
        fx.state.require_auth = None
        os.remove(path)


def main():
    global BRIDGE
    if sys.argv[1:2] == ["--list"]:
        test_faults.suite_main(globals())
        return
    BRIDGE = os.path.abspath(sys.argv[1])
    test_faults.BRIDGE = BRIDGE
    test_faults.run_tests(globals(), set(sys.argv[2:]), fresh_state=False)


if __name__ == "__main__":
    main()
