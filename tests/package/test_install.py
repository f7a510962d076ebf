#!/usr/bin/env python3
"""install / uninstall against temporary HOMEs: the config files Claude Desktop and Cursor
read on Linux, the entry's command starting a working bridge, and the refusals.

Usage: test_install.py BRIDGE_BINARY
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fault"))
from fixture_server import Fixture  # noqa: E402

BRIDGE = os.path.realpath(sys.argv[1])


def run(home, *args):
    env = {"PATH": os.environ["PATH"], "HOME": home}
    return subprocess.run([BRIDGE, *args], capture_output=True, text=True, timeout=30, env=env)


def main():
    fx = Fixture()
    home = tempfile.mkdtemp(prefix="claribi-install-")
    try:
        claude = os.path.join(home, ".config", "Claude", "claude_desktop_config.json")
        p = run(home, "install", "claude", fx.url, "--", "--read-only", "--upload-dir", home)
        assert p.returncode == 0 and "new file" in p.stdout, p
        entry = json.load(open(claude))["mcpServers"]["clariBI"]
        assert entry == {"command": BRIDGE, "args": ["run", fx.url, "--read-only", "--upload-dir", home]}, entry
        # The entry starts a bridge that works.
        answer = subprocess.run([entry["command"], *entry["args"]], input=json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"}}}) + "\n", capture_output=True, text=True,
            timeout=30, env={"PATH": os.environ["PATH"], "HOME": home})
        assert "result" in json.loads(answer.stdout.splitlines()[0]), answer
        print("ok   install claude: new file, entry starts a working bridge")

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
        print("ok   install claude: other servers and settings kept, our entry replaced in place")

        before = open(claude).read()
        p = run(home, "uninstall", "claude", "--dry-run")
        assert p.returncode == 0 and "Would write" in p.stdout and open(claude).read() == before, p
        p = run(home, "uninstall", "claude")
        assert p.returncode == 0 and list(json.load(open(claude))["mcpServers"]) == ["other"], p
        p = run(home, "uninstall", "claude")
        assert p.returncode == 0 and "nothing changed" in p.stdout, p
        print("ok   uninstall claude: dry run, removal, nothing to remove")

        cursor = os.path.join(home, ".cursor", "mcp.json")
        p = run(home, "install", "cursor")
        assert p.returncode == 0 and json.load(open(cursor))["mcpServers"]["clariBI"]["command"] == BRIDGE, p
        project = os.path.join(home, "proj")
        os.makedirs(project)
        p = run(home, "install", "cursor", "--project", project)
        assert p.returncode == 0 and os.path.exists(os.path.join(project, ".cursor", "mcp.json")), p
        print("ok   install cursor: global and --project")

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
        print("ok   refusals: malformed file untouched, secrets, flags before --, unknown client")
        print("all passed")
    finally:
        fx.stop()
        shutil.rmtree(home)


if __name__ == "__main__":
    main()
