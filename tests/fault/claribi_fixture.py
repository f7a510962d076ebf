#!/usr/bin/env python3
"""A clariBI-shaped MCP server (streamable HTTP, 2025-11-25) on 127.0.0.1, for the onboarding
test and the demo: the 19 tools of clariBI's announcement, with its per-method API-key auth.

- initialize, tools/list, ping and the signup tools (register_account, verify_email,
  check_pricing) need no credentials; everything else, server/discover included, answers 401
  with `WWW-Authenticate: Bearer realm="claribi"` unless it carries a key or token minted here;
- verify_email mints a long-lived `claribi_mcp_` API key and an access token;
- uploads are capped at 25 MB of base64; integrations turn connected after two polls, reports
  finish after two polls; run_analysis needs a data source.
POST /control/revoke-tokens (no MCP) revokes every access token, as their expiry would.

Usage: claribi_fixture.py [PORT]   prints "listening URL" once ready, serves until killed.
"""
import base64
import csv
import hashlib
import io
import json
import secrets
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PUBLIC = {"register_account", "verify_email", "check_pricing"}
CAP = 25_000_000


def tool(name, description, props=None, required=(), annotations=None):
    t = {"name": name, "description": description,
         "inputSchema": {"type": "object", "properties": props or {}, "required": list(required)}}
    if annotations:
        t["annotations"] = annotations
    return t


S = {"type": "string"}
READ = {"readOnlyHint": True}
TOOLS = [
    tool("register_account", "Start signup: emails a 6-digit code.",
         {"email": S, "organization_name": S, "accept_terms": {"type": "boolean"}}, ["email", "organization_name"]),
    tool("verify_email", "Finish signup: mints an API key and an access token.",
         {"pending_id": S, "code": S, "password": S}, ["pending_id", "code", "password"]),
    tool("check_pricing", "Plans and prices.", annotations=READ),
    tool("upload_data_source", "Upload a file as a data source (25 MB encoded at most).",
         {"name": S, "format": {"type": "string", "enum": ["csv", "tsv", "json", "excel", "text", "pdf"]},
          "data_base64": {"type": "string", "description": "The file, base64-encoded"},
          "wait_seconds": {"type": "number"}}, ["name", "format", "data_base64"]),
    tool("ingest_url_data_source", "Fetch a public URL as a data source.", {"name": S, "url": S}, ["name", "url"]),
    tool("list_data_sources", "The workspace's data sources.", annotations=READ),
    tool("get_data_source", "One data source.", {"data_source_id": S}, ["data_source_id"], READ),
    tool("delete_data_source", "Delete a data source.", {"data_source_id": S}, ["data_source_id"]),
    tool("request_oauth_integration_url", "A browser URL that connects an integration.",
         {"provider": S, "integration_type": S}, ["provider", "integration_type"]),
    tool("check_integration_status", "Whether an integration handoff is connected.",
         {"handoff_id": S}, ["handoff_id"], READ),
    tool("run_analysis", "Answer an analytics question.", {"question": S, "wait_seconds": {"type": "number"}},
         ["question"]),
    tool("generate_report", "Queue a report.", {"title": S, "output_format": S}, ["title"]),
    tool("get_report", "A report's state and download URL.", {"report_id": S}, ["report_id"], READ),
    tool("list_reports", "The workspace's reports.", annotations=READ),
    tool("list_dashboards", "The workspace's dashboards.", annotations=READ),
    tool("get_dashboard", "One dashboard.", {"dashboard_id": S}, ["dashboard_id"], READ),
    tool("get_usage", "Credit balances and quota headroom.", annotations=READ),
    tool("get_billing_status", "Tier and renewal date.", annotations=READ),
    tool("create_checkout_session", "A Stripe Checkout URL for an upgrade."),
]
assert len(TOOLS) == 19


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.sessions = set()
        self.pending = {}  # pending_id -> email
        self.keys = set()
        self.tokens = set()
        self.sources = []
        self.handoffs = {}  # handoff_id -> polls so far
        self.reports = {}   # report_id -> polls so far
        self.counts = {"401": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    @property
    def st(self):
        return self.server.state

    def reply(self, status, obj=None, headers=None):
        data = json.dumps(obj).encode() if obj is not None else b""
        self.send_response(status)
        if obj is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_DELETE(self):
        with self.st.lock:
            self.st.sessions.discard(self.headers.get("Mcp-Session-Id"))
        self.reply(200)

    def do_GET(self):
        self.reply(405)

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return False
        with self.st.lock:
            return auth[7:] in self.st.keys or auth[7:] in self.st.tokens

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/control/revoke-tokens":
            with self.st.lock:
                self.st.tokens.clear()
            self.reply(200, {"revoked": True})
            return
        try:
            msg = json.loads(body)
        except ValueError:
            self.reply(400, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
            return
        method, rid = msg.get("method"), msg.get("id")
        params = msg.get("params") or {}
        name = params.get("name") if method == "tools/call" else None
        open_method = method in ("initialize", "notifications/initialized", "tools/list", "ping") or name in PUBLIC
        if not open_method and not self.authorized():
            with self.st.lock:
                self.st.counts["401"] += 1
            self.reply(401, {"error": "unauthorized"}, {"WWW-Authenticate": 'Bearer realm="claribi"'})
            return
        if method == "initialize":
            sid = str(uuid.uuid4())
            with self.st.lock:
                self.st.sessions.add(sid)
            self.reply(200, {"jsonrpc": "2.0", "id": rid, "result": {
                "protocolVersion": params.get("protocolVersion", "2025-11-25"),
                "capabilities": {"tools": {}}, "serverInfo": {"name": "clariBI (fixture)", "version": "1"}}},
                {"Mcp-Session-Id": sid})
            return
        with self.st.lock:
            known = self.headers.get("Mcp-Session-Id") in self.st.sessions
        if not known:
            self.reply(404)
            return
        if rid is None:
            self.reply(202)
            return
        if method == "tools/list":
            self.reply(200, {"jsonrpc": "2.0", "id": rid, "result": {"tools": TOOLS}})
        elif method == "ping":
            self.reply(200, {"jsonrpc": "2.0", "id": rid, "result": {}})
        elif method == "tools/call":
            result = self.call(name, params.get("arguments") or {})
            self.reply(200, {"jsonrpc": "2.0", "id": rid, "result": result})
        else:
            self.reply(200, {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "Method not found"}})

    def call(self, name, a):
        def ok(payload):
            return {"content": [{"type": "text", "text": json.dumps(payload)}], "structuredContent": payload}

        def err(text):
            return {"content": [{"type": "text", "text": text}], "isError": True}

        st = self.st
        with st.lock:
            if name == "register_account":
                pending = "pend_" + secrets.token_hex(6)
                st.pending[pending] = a.get("email", "")
                return ok({"pending_id": pending, "message": "We emailed a 6-digit code."})
            if name == "verify_email":
                if a.get("pending_id") not in st.pending or a.get("code") != "123456":
                    return err("wrong code or unknown pending_id")
                key = "claribi_mcp_" + secrets.token_hex(20)
                token = "eyJhbGciOiJIUzI1NiJ9." + secrets.token_hex(16) + "." + secrets.token_hex(16)
                st.keys.add(key)
                st.tokens.add(token)
                payload = {"status": "verified", "api_key": key, "access_token": token, "token_type": "Bearer",
                           "expires_in": 3600, "workspace": {"id": "ws_1", "plan": "trial"}}
                result = ok(payload)
                result["content"][0]["text"] = f"Verified. Store this API key now, it is shown once: {key}"
                return result
            if name == "check_pricing":
                return ok({"plans": [{"name": "Trial", "price": 0}, {"name": "Starter", "price": 29}]})
            if name == "upload_data_source":
                data = a.get("data_base64", "")
                if len(data) > CAP:
                    return err(f"the file is over the upload cap of 25 MB encoded ({len(data)} bytes)")
                try:
                    raw = base64.b64decode(data, validate=True)
                except ValueError as e:
                    return err(f"data_base64 is not base64: {e}")
                rows = len(list(csv.reader(io.StringIO(raw.decode("utf-8", "replace"))))) if a.get("format") == "csv" else None
                source = {"id": "ds_" + secrets.token_hex(4), "name": a.get("name"), "format": a.get("format"),
                          "bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest(), "rows": rows}
                st.sources.append(source)
                return ok(source)
            if name == "ingest_url_data_source":
                return err("the fixture fetches no URLs")
            if name == "list_data_sources":
                return ok({"data_sources": st.sources})
            if name in ("get_data_source", "delete_data_source"):
                found = [s for s in st.sources if s["id"] == a.get("data_source_id")]
                if not found:
                    return err("no such data source")
                if name == "delete_data_source":
                    st.sources.remove(found[0])
                return ok(found[0])
            if name == "request_oauth_integration_url":
                handoff = "ho_" + secrets.token_hex(4)
                st.handoffs[handoff] = 0
                return ok({"handoff_id": handoff, "url": f"https://claribi.example/connect/{handoff}"})
            if name == "check_integration_status":
                h = a.get("handoff_id")
                if h not in st.handoffs:
                    return err("no such handoff")
                st.handoffs[h] += 1
                if st.handoffs[h] <= 2:
                    return ok({"status": "pending"})
                return ok({"status": "connected", "data_source_id": "ds_ads_" + h[3:]})
            if name == "run_analysis":
                if not st.sources:
                    return err("connect or upload a data source first")
                return ok({"headline": "Revenue by region", "metric": "revenue", "sources": len(st.sources)})
            if name == "generate_report":
                report = "rep_" + secrets.token_hex(4)
                st.reports[report] = 0
                return ok({"report_id": report, "status": "queued"})
            if name == "get_report":
                r = a.get("report_id")
                if r not in st.reports:
                    return err("no such report")
                st.reports[r] += 1
                if st.reports[r] <= 2:
                    return ok({"status": "running"})
                return ok({"status": "done", "download_url": f"https://claribi.example/reports/{r}.pdf"})
            if name in ("list_reports", "list_dashboards", "get_dashboard"):
                return ok({"items": [{"id": r} for r in st.reports]} if name == "list_reports" else {"items": []})
            if name == "get_usage":
                return ok({"credits_left": 49})
            if name == "get_billing_status":
                return ok({"tier": "trial", "renews": "2026-12-14"})
            if name == "create_checkout_session":
                return ok({"url": "https://checkout.stripe.example/session"})
        return err(f"unknown tool {name}")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that hangs up (the bridge exiting) is no error of the fixture


def serve(port=0, handler=Handler):
    httpd = Server(("127.0.0.1", port), handler)
    httpd.state = State()
    return httpd


if __name__ == "__main__":
    httpd = serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(f"listening http://127.0.0.1:{httpd.server_address[1]}/mcp/v1/", flush=True)
    httpd.serve_forever()
