#!/usr/bin/env python3
"""The platform workflow (.github/workflows/platforms.yml) parses, runs on push and pull
requests, has its macOS and Windows jobs on the runner images it was written for, and pins
every action to a full commit SHA with the release named in a comment. Nothing here runs
that workflow: GitHub does.

Usage: test_workflow.py [TEST_NAME...] | --list
"""
import os
import re
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
WORKFLOW = os.path.join(HERE, "..", "..", ".github", "workflows", "platforms.yml")


def load():
    import yaml  # python3-yaml; only when a case runs, so that `--list` (at configure) needs none

    with open(WORKFLOW) as f:
        return yaml.safe_load(f)


def test_parses_and_runs_on_push_and_pull_request():
    doc = load()
    # YAML 1.1 reads the key `on` as true.
    triggers = doc.get("on", doc.get(True))
    assert isinstance(triggers, dict) and {"push", "pull_request"} <= set(triggers), triggers


def test_macos_and_windows_jobs_on_their_images():
    jobs = load()["jobs"]
    assert jobs["macos"]["runs-on"] == "macos-14", jobs["macos"]["runs-on"]
    assert jobs["windows"]["runs-on"] == "windows-2022", jobs["windows"]["runs-on"]
    for name in ("macos", "windows"):
        assert jobs[name]["steps"], name
    runs = {name: "\n".join(s.get("run", "") for s in jobs[name]["steps"]) for name in jobs}
    assert "SKIP_NOTARIZE=1 installers/macos/build-pkg.sh" in runs["macos"]
    assert "keychain_roundtrip.sh" in runs["macos"] and "keychain_roundtrip.sh" in runs["windows"]
    assert "os_trust.py" in runs["macos"] and "os_trust.py" in runs["windows"]
    assert "makensis" in runs["windows"] and "wixl" in runs["windows"]


def test_every_action_is_pinned_to_a_commit_with_its_release_named():
    jobs = load()["jobs"]
    uses = [s["uses"] for j in jobs.values() for s in j["steps"] if "uses" in s]
    assert uses, "no actions used"
    for u in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", u), f"not pinned to a commit: {u}"
    # The comment is lost to the parser: read the lines.
    with open(WORKFLOW) as f:
        lines = [ln for ln in f if re.match(r"\s*(-\s+)?uses:", ln)]
    assert len(lines) == len(uses), lines
    for ln in lines:
        assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+\s*$", ln), f"no release comment: {ln.strip()}"


def main():
    tests = {n: f for n, f in sorted(globals().items()) if n.startswith("test_") and callable(f)}
    if sys.argv[1:2] == ["--list"]:
        print("\n".join(tests))
        return
    names = set(sys.argv[1:])
    passed = failed = 0
    for name, fn in tests.items():
        if names and name not in names:
            continue
        try:
            fn()
            passed += 1
            print(f"ok   {name}", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {name}\n{traceback.format_exc()}", flush=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
