#!/usr/bin/env python3
"""install / uninstall against temporary HOMEs: the config files Claude Desktop and Cursor
read on Linux, the entry's command starting a working bridge, and the refusals.

Usage: test_install.py BRIDGE_BINARY [TEST_NAME...] | --list
"""
import json
import os
import contextlib
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fault"))
import test_faults  # noqa: E402

BRIDGE = None


def run(home, *args):
    env = {"PATH": os.environ["PATH"], "HOME": home}
    return subprocess.run([BRIDGE, *args], capture_output=True, text=True, timeout=30, env=env)


@contextlib.contextmanager
def temp_home():
    home = tempfile.mkdtemp(prefix="claribi-install-")
    try:
        yield home
    finally:
        shutil.rmtree(home)


def claude_config(home):
    return os.path.join(home, ".config", "Claude", "claude_desktop_config.json")


def test_install_claude_writes_a_new_file_whose_entry_starts_a_working_bridge(fx):
    with temp_home() as home:
        claude = claude_config(home)
        p = run(home, "install", "claude", fx.url, "--", "--read-only", "--upload-dir", home)
        assert p.returncode == 0 and "new file" in p.stdout, p
        entry = json.load(open(claude))["mcpServers"]["clariBI"]
        assert entry == {"command": BRIDGE, "args": ["run", fx.url, "--read-only", "--upload-dir", home]}, entry
        answer = subprocess.run([entry["command"], *entry["args"]], input=json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"}}}) + "\n", capture_output=True, text=True,
            timeout=30, env={"PATH": os.environ["PATH"], "HOME": home})
        first = json.loads(answer.stdout.splitlines()[0])
        assert first["id"] == 1 and "protocolVersion" in first["result"], answer


def test_install_claude_keeps_other_servers_and_settings_and_replaces_our_entry(fx):
    with temp_home() as home:
        claude = claude_config(home)
        os.makedirs(os.path.dirname(claude))
        with open(claude, "w") as f:
            json.dump({"mcpServers": {"other": {"command": "npx", "args": ["srv"]}}, "globalShortcut": "x"}, f)
        p = run(home, "install", "claude", "--name", "clariBI")
        assert p.returncode == 0 and ".bak" in p.stdout, p
        cfg = json.load(open(claude))
        assert cfg["globalShortcut"] == "x" and list(cfg["mcpServers"]) == ["other", "clariBI"], cfg
        assert json.load(open(claude + ".bak"))["mcpServers"] == {"other": {"command": "npx", "args": ["srv"]}}
        p = run(home, "install", "claude", fx.url)  # already there: replaced, not duplicated
        cfg = json.load(open(claude))
        assert list(cfg["mcpServers"]) == ["other", "clariBI"] and cfg["mcpServers"]["clariBI"]["args"] == ["run", fx.url]


def test_uninstall_claude_dry_run_removal_and_nothing_to_remove(fx):
    with temp_home() as home:
        claude = claude_config(home)
        os.makedirs(os.path.dirname(claude))
        with open(claude, "w") as f:
            json.dump({"mcpServers": {"other": {"command": "npx", "args": ["srv"]}}}, f)
        assert run(home, "install", "claude", fx.url).returncode == 0
        before = open(claude).read()
        p = run(home, "uninstall", "claude", "--dry-run")
        assert p.returncode == 0 and "Would write" in p.stdout and open(claude).read() == before, p
        p = run(home, "uninstall", "claude")
        assert p.returncode == 0 and list(json.load(open(claude))["mcpServers"]) == ["other"], p
        p = run(home, "uninstall", "claude")
        assert p.returncode == 0 and "nothing changed" in p.stdout, p


def test_install_cursor_global_and_project(fx):
    with temp_home() as home:
        cursor = os.path.join(home, ".cursor", "mcp.json")
        p = run(home, "install", "cursor")
        assert p.returncode == 0 and json.load(open(cursor))["mcpServers"]["clariBI"]["command"] == BRIDGE, p
        project = os.path.join(home, "proj")
        os.makedirs(project)
        p = run(home, "install", "cursor", "--project", project)
        assert p.returncode == 0 and os.path.exists(os.path.join(project, ".cursor", "mcp.json")), p


def test_refusals_leave_a_malformed_file_untouched_and_name_the_problem(fx):
    with temp_home() as home:
        cursor = os.path.join(home, ".cursor", "mcp.json")
        os.makedirs(os.path.dirname(cursor))
        bad = '{"mcpServers": {"a": {"command": "x",}}}'
        with open(cursor, "w") as f:
            f.write(bad)
        p = run(home, "install", "cursor")
        assert p.returncode == 1 and "not valid JSON" in p.stderr and "column" in p.stderr, p
        assert open(cursor).read() == bad
        p = run(home, "install", "claude", "--", "--header", "Authorization: Bearer claribi_mcp_x")
        assert p.returncode == 2 and "key set" in p.stderr, p
        p = run(home, "install", "claude", "--read-only")
        assert p.returncode == 2 and "after --" in p.stderr, p
        p = run(home, "install", "vscode")
        assert p.returncode == 2, p


def main():
    global BRIDGE
    if sys.argv[1:2] == ["--list"]:
        test_faults.suite_main(globals())
        return
    BRIDGE = os.path.realpath(sys.argv[1])
    test_faults.BRIDGE = BRIDGE
    test_faults.run_tests(globals(), set(sys.argv[2:]), fresh_state=False)


if __name__ == "__main__":
    main()
