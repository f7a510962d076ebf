#!/usr/bin/env python3
"""Connections that die under a call: nothing runs twice, what never left is retried.

Usage: test_retries.py BRIDGE_BINARY [TEST_NAME...]   (--list prints the test names)
A seeded loopback proxy (reset_proxy.py) resets connections between the bridge and the
fixture server; the fixture counts how often each call ran.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_faults  # noqa: E402
from reset_proxy import ResetProxy  # noqa: E402
from test_faults import Bridge  # noqa: E402

MAYBE_RAN = re.compile(r"may (or may not )?have run")


def drive(fx, proxy, calls, lists, tool="count"):
    """`calls` sequential tools/call count (unique keys) and `lists` tools/list through the
    proxy; returns a dict of figures."""
    b = Bridge(proxy.url, "--log-level", "warn")
    b.initialize()
    if tool != "count":  # the bridge learns the tool's annotations from a listing
        assert "result" in b.wait_for(b.request("tools/list"), timeout=30)
    figures = {"ok": 0, "maybe_ran": 0, "failed": 0, "list_ok": 0, "list_failed": 0}
    outcome = {}
    for i in range(calls):
        key = f"k{i}"
        answer = b.tool(tool, {"key": key}, timeout=30)
        if "result" in answer:
            figures["ok"] += 1
            outcome[key] = "ok"
        elif MAYBE_RAN.search(answer["error"]["message"]):
            figures["maybe_ran"] += 1
            outcome[key] = "maybe"
        else:
            figures["failed"] += 1
            outcome[key] = answer["error"]["message"]
        if i % 2 == 0 and figures["list_ok"] + figures["list_failed"] < lists:
            answer = b.wait_for(b.request("tools/list"), timeout=30)
            figures["list_ok" if "result" in answer else "list_failed"] += 1
    b.close(timeout=10)
    b.check_stdout()
    runs = fx.state.executions
    figures["ran_twice"] = sum(1 for k in outcome if runs.get(k, 0) > 1)
    figures["ok_but_not_run"] = sum(1 for k, o in outcome.items() if o == "ok" and runs.get(k, 0) != 1)
    figures["failed_but_ran"] = sum(1 for k, o in outcome.items()
                                    if o not in ("ok", "maybe") and runs.get(k, 0) > 0)
    figures["maybe_not_run"] = sum(1 for k, o in outcome.items() if o == "maybe" and runs.get(k, 0) == 0)
    figures["resets"] = dict(proxy.resets)
    return figures


def test_responses_cut_after_the_server_ran_the_call_never_run_twice(fx):
    proxy = ResetProxy(fx.port, seed=7, p_response=0.05)
    try:
        f = drive(fx, proxy, calls=1000, lists=500)
    finally:
        proxy.stop()
    print(f"     response resets: {f}")
    assert f["ran_twice"] == 0, f
    assert f["ok_but_not_run"] == 0 and f["failed_but_ran"] == 0, f
    assert f["maybe_ran"] > 0, f  # the resets did hit calls, and said so
    assert f["list_failed"] == 0, f  # lists are idempotent: retried


def test_requests_reset_before_reaching_the_server_are_retried(fx):
    proxy = ResetProxy(fx.port, seed=11, p_request=0.05)
    try:
        f = drive(fx, proxy, calls=1000, lists=500)
    finally:
        proxy.stop()
    print(f"     request resets: {f}")
    assert f["ran_twice"] == 0 and f["failed"] == 0 and f["list_failed"] == 0, f
    # A reset right after the request went out looks the same from the bridge whether or not
    # the server got it: those calls are reported as maybe-run (here none had run).
    assert f["maybe_not_run"] == f["maybe_ran"], f
    assert f["ok"] + f["maybe_ran"] == 1000, f


def test_a_tool_declared_idempotent_is_sent_again(fx):
    proxy = ResetProxy(fx.port, seed=7, p_response=0.05)
    try:
        f = drive(fx, proxy, calls=500, lists=0, tool="count_safe")
    finally:
        proxy.stop()
    print(f"     response resets, idempotentHint: {f}")
    assert f["ok"] == 500 and f["ran_twice"] > 0, f


def main():
    test_faults.suite_main(globals())


if __name__ == "__main__":
    main()
