"""A streamable HTTP MCP server (2025-11-25) whose misbehaviour the fault tests control.

Binds 127.0.0.1 on an ephemeral port. Tools:
  digest {data}        sha256 and length of `data` (checks large messages arrive intact)
  count {key}          counts each execution per key (state.executions): runs twice show up
  sleep {seconds}      answers after a delay
  progress {steps}     SSE answer: `steps` progress notifications 0.4 s apart, then the result
  cut                  SSE answer: one event with an id, then the connection drops; the answer
                       is delivered on the GET that resumes with Last-Event-ID
  garbage / html / huge / status {code}   broken answers
  announce_tools {names}  adds tools to tools/list and answers over SSE with
                       notifications/tools/list_changed before the result
  upload_data_source {name, format, data_base64}  decodes the file; answers its sha256,
                       length and format
  deep / deep_sse      a body (or one SSE data line) of 300,000 '[': nesting no parser may recurse on
  text {bytes, sse}    a text result of `bytes` bytes, lines of 63 'x', as JSON or one SSE event
  verify_email {code}  clariBI's signup finish: mints an API key and an access token (in
                       structuredContent and in the text), as state.minted_key/minted_token
"""
import base64
import hashlib
import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPLOAD_TOOL = {
    "name": "upload_data_source",
    "description": "Upload a file as a data source.",
    "inputSchema": {"type": "object", "properties": {
        "name": {"type": "string"},
        "format": {"type": "string", "enum": ["csv", "tsv", "json", "excel", "text", "pdf"]},
        "data_base64": {"type": "string", "description": "The file, base64-encoded"},
        "wait_seconds": {"type": "number"}},
        "required": ["name", "format", "data_base64"]}}

COUNT_SAFE = {"name": "count_safe", "description": "count, declared idempotent",
              "annotations": {"idempotentHint": True}, "inputSchema": {"type": "object"}}

TOOLS = [UPLOAD_TOOL, COUNT_SAFE] + [{"name": n, "description": n, "inputSchema": {"type": "object"}} for n in
         ("digest", "count", "deep", "deep_sse", "huge_headers", "bad_chunked", "sleep", "progress", "cut", "garbage", "html", "huge", "status", "verify_email", "announce_tools", "delete_everything", "huge_chunked", "text")]


# What the official TypeScript SDK's examples answer to an unknown Mcp-Session-Id (HTTP 400).
STALE_SESSION_400 = {"jsonrpc": "2.0", "error": {"code": -32000, "message": "Bad Request: No valid session ID provided"}, "id": None}
DEEP = b"[" * 300000


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.sessions = set()
        self.log = []            # (method, jsonrpc method or None, headers dict)
        self.connections = 0     # TCP connections accepted
        self.pending_resume = {}  # last event id -> response to send on resumption
        self.require_auth = None  # an Authorization value, or a set of accepted values
        self.minted_key = None
        self.extra_tools = []
        self.minted_token = None
        self.oauth = None  # an oauth_fixture.OAuthServer: the MCP endpoint wants its tokens
        # Like the Python SDK: requests before the session's notifications/initialized are
        # refused. The notification is acknowledged after this many seconds.
        self.strict_initialized = None
        self.initialized_sessions = set()
        # How an unknown Mcp-Session-Id is answered: 404 as the spec says, or 400 with the
        # body of the official TypeScript SDK's examples (and server-everything).
        self.stale_status = 404
        self.get_bodies = {}  # GET path -> (status, content type, bytes) served as is
        # The GET stream opens (its head sent at once) and stays silent until the client
        # leaves, as a server with nothing to say yet does; else GET is refused (405).
        self.silent_get_stream = False
        self.session_id = None  # the Mcp-Session-Id initialize hands out, instead of a uuid
        self.tools_page_size = None  # tools/list in pages of this many, with nextCursor
        self.tools_list_error = None  # a JSON-RPC error object tools/list answers with
        self.executions = {}  # count {key}: how often each key ran
        # clariBI's per-method auth: when set, these tools (and initialize, tools/list, ping)
        # need no credentials; everything else wants the minted key or token, else 401.
        self.public_tools = None
        self.set_cookie = None  # a Set-Cookie value initialize answers with (a sticky load balancer)
        # A 2026-07-28 server only (as the SDK v2's createMcpHandler with legacy: 'reject'):
        # server/discover lists 2026-07-28, a request without the `_meta` envelope (a 2025
        # initialize included) is refused HTTP 400 -32022, the rest is served without a session.
        self.modern_only = False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle's algorithm the body waits for
    # the client's delayed ACK, 40 ms a message.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    @property
    def state(self):
        return self.server.state

    def setup(self):
        super().setup()
        with self.state.lock:
            self.state.connections += 1

    def record(self, rpc_method, body=None):
        with self.state.lock:
            self.state.log.append((self.command, rpc_method, dict(self.headers.items()), body))

    def send_bytes(self, data, content_type, status=200, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, obj, status=200, headers=None):
        self.send_bytes(json.dumps(obj).encode(), "application/json", status, headers)

    def send_empty(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def start_sse(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def sse(self, obj, event_id=None):
        out = ""
        if event_id:
            out += f"id: {event_id}\n"
        out += "data: " + json.dumps(obj) + "\n\n"
        self.wfile.write(out.encode())
        self.wfile.flush()

    def modern_answer(self, msg, method):
        """What a modern-only server answers itself; False: served as usual, sessionless."""
        if "id" not in msg or method is None:
            self.send_empty(202)
            return True
        meta = (msg.get("params") or {}).get("_meta") or {}
        requested = meta.get("io.modelcontextprotocol/protocolVersion")
        if requested != "2026-07-28":
            self.send_json({"jsonrpc": "2.0", "id": msg["id"], "error": {
                "code": -32022, "message": "Unsupported protocol version",
                "data": {"supported": ["2026-07-28"],
                         "requested": requested or (msg.get("params") or {}).get("protocolVersion")}}}, 400)
            return True
        if method == "server/discover":
            self.send_json({"jsonrpc": "2.0", "id": msg["id"], "result": {
                "supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}},
                "serverInfo": {"name": "fixture-modern", "version": "1"}, "ttlMs": 0}})
            return True
        return False

    def session_ok(self):
        sid = self.headers.get("Mcp-Session-Id")
        with self.state.lock:
            return sid in self.state.sessions

    def do_DELETE(self):
        self.record(None)
        sid = self.headers.get("Mcp-Session-Id")
        with self.state.lock:
            self.state.sessions.discard(sid)
        self.send_empty(200)

    def do_GET(self):
        if self.state.oauth and self.state.oauth.handle_get(self):
            return
        canned = self.state.get_bodies.get(self.path.partition("?")[0])
        if canned:
            self.record(None)
            self.send_bytes(canned[2], canned[1], canned[0])
            return
        self.record(None)
        last = self.headers.get("Last-Event-ID")
        with self.state.lock:
            response = self.state.pending_resume.pop(last, None) if last else None
        if response is None and self.state.silent_get_stream:
            self.start_sse()
            self.wfile.flush()
            self.rfile.read(1)  # nothing comes: returns when the client closes the connection
            return
        if response is None:
            self.send_empty(405)
            return
        self.start_sse()
        self.sse(response, event_id=last + "-answer")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.state.oauth and self.state.oauth.handle_post(self, body):
            return
        if self.path.endswith("/redirect"):  # 307: the client must send the same body again
            self.send_response(307)
            self.send_header("Location", self.path[: -len("/redirect")])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        try:
            msg = json.loads(body)
        except ValueError:
            self.record("<unparseable>")
            self.send_json({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "bad"}}, 400)
            return
        method = msg.get("method")
        self.record(method, msg)
        accepted = self.state.require_auth
        if isinstance(accepted, str):
            accepted = {accepted}
        public = self.state.public_tools
        if public is not None:
            name = (msg.get("params") or {}).get("name") if method == "tools/call" else None
            if method in ("initialize", "notifications/initialized", "tools/list", "ping") or name in public:
                accepted = None
            else:
                with self.state.lock:
                    accepted = {"Bearer " + v for v in (self.state.minted_key, self.state.minted_token) if v}
                accepted |= {"Bearer never-valid"}
                if not self.session_ok() and method not in ("initialize", "server/discover"):
                    accepted = accepted  # the session check below answers 404 after auth
            if accepted and self.headers.get("Authorization") not in accepted:
                self.send_json({"error": "unauthorized"}, 401, {"WWW-Authenticate": 'Bearer realm="claribi"'})
                return
            accepted = None
        if accepted and self.headers.get("Authorization") not in accepted:
            self.send_json({"error": "unauthorized"}, 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            return
        oauth = self.state.oauth
        if oauth and not oauth.authorized(self.headers.get("Authorization"), self):
            self.send_json({"error": "invalid_token"}, 401, oauth.challenge_headers())
            return
        if self.state.modern_only and self.modern_answer(msg, method):
            return
        if method == "initialize":
            sid = self.state.session_id or str(uuid.uuid4())
            with self.state.lock:
                self.state.sessions.add(sid)
            headers = {"Mcp-Session-Id": sid}
            if self.state.set_cookie:
                headers["Set-Cookie"] = self.state.set_cookie
            self.send_json({"jsonrpc": "2.0", "id": msg["id"], "result": {
                "protocolVersion": msg["params"].get("protocolVersion", "2025-11-25"),
                "capabilities": {"tools": {}}, "serverInfo": {"name": "fixture", "version": "1"}}},
                headers=headers)
            return
        if not self.state.modern_only and not self.session_ok():
            if self.state.stale_status == 400:
                self.send_json(STALE_SESSION_400, 400)
            else:
                self.send_empty(self.state.stale_status)
            return
        sid = self.headers.get("Mcp-Session-Id")
        if method == "notifications/initialized" and self.state.strict_initialized is not None:
            time.sleep(self.state.strict_initialized)
            with self.state.lock:
                self.state.initialized_sessions.add(sid)
                self.state.log.append(("ACK", None, {}, None))
            try:
                self.send_empty(202)
            except OSError:
                pass  # the bridge may have gone meanwhile
            return
        if "id" not in msg or method is None:
            self.send_empty(202)
            return
        rid = msg["id"]
        if self.state.strict_initialized is not None and method != "ping":
            with self.state.lock:
                early = sid not in self.state.initialized_sessions
            if early:
                self.send_json({"jsonrpc": "2.0", "id": rid, "error": {
                    "code": -32602, "message": "Received request before initialization was complete"}})
                return
        if method == "tools/list":
            with self.state.lock:
                extra = [{"name": n, "description": n, "inputSchema": {"type": "object"}}
                         for n in self.state.extra_tools]
                size, error = self.state.tools_page_size, self.state.tools_list_error
            if error:
                self.send_json({"jsonrpc": "2.0", "id": rid, "error": error})
                return
            tools = extra + TOOLS[1:] + TOOLS[:1]  # the upload tool last: on the last page
            result = {"tools": tools}
            if size:
                start = int((msg.get("params") or {}).get("cursor") or 0)
                result = {"tools": tools[start:start + size]}
                if start + size < len(tools):
                    result["nextCursor"] = str(start + size)
            self.send_json({"jsonrpc": "2.0", "id": rid, "result": result})
            return
        if method != "tools/call":
            self.send_json({"jsonrpc": "2.0", "id": rid, "result": {}})
            return
        name = msg["params"]["name"]
        args = msg["params"].get("arguments", {})
        result = lambda text: {"jsonrpc": "2.0", "id": rid, "result": {"content": [{"type": "text", "text": text}]}}
        if name in ("count", "count_safe"):  # records each execution of `key`
            with self.state.lock:
                key = args.get("key")
                self.state.executions[key] = self.state.executions.get(key, 0) + 1
            self.send_json(result(f"counted {key}"))
        elif name == "digest":
            data = args.get("data", "").encode()
            self.send_json(result(f"{hashlib.sha256(data).hexdigest()} {len(data)}"))
        elif name == "sleep":
            time.sleep(float(args.get("seconds", 1)))
            try:
                self.send_json(result("slept"))
            except OSError:
                pass
        elif name == "progress":
            token = msg["params"].get("_meta", {}).get("progressToken")
            self.start_sse()
            steps = int(args.get("steps", 3))
            for i in range(steps):
                time.sleep(0.4)
                self.sse({"jsonrpc": "2.0", "method": "notifications/progress",
                          "params": {"progressToken": token, "progress": i + 1, "total": steps}})
            self.sse(result("done"))
        elif name == "cut":
            event_id = "cut-" + str(uuid.uuid4())
            with self.state.lock:
                self.state.pending_resume[event_id] = result("resumed answer")
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            event = f"id: {event_id}\nretry: 100\ndata: " + json.dumps(
                {"jsonrpc": "2.0", "method": "notifications/message",
                 "params": {"level": "info", "data": "before the cut"}}) + "\n\n"
            chunk = event.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"40\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":")  # an event cut mid-way
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        elif name == "deep":
            self.send_bytes(DEEP, "application/json")
        elif name == "deep_sse":
            self.start_sse()
            self.wfile.write(b"data: " + DEEP + b"\n\n")
            self.wfile.flush()
        elif name == "huge_headers":  # 1 MB of response headers
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            for i in range(1024):
                self.send_header(f"X-Pad-{i}", "p" * 1000)
            body = json.dumps(result("padded")).encode()
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                pass
            self.close_connection = True
        elif name == "bad_chunked":  # a chunk size that is not hex
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"zz\r\n{}\r\n0\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
        elif name == "garbage":
            self.send_bytes(b"this is {not json", "application/json")
        elif name == "html":
            self.send_bytes(b"<html><body>maintenance</body></html>", "text/html")
        elif name == "huge":
            size = 100 * 1024 * 1024
            head = b'{"jsonrpc":"2.0","id":' + json.dumps(rid).encode() + b',"result":{"pad":"'
            tail = b'"}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(head) + size + len(tail)))
            self.end_headers()
            try:
                self.wfile.write(head)
                block = b"a" * (1024 * 1024)
                for _ in range(100):
                    self.wfile.write(block)
                self.wfile.write(tail)
            except OSError:
                self.close_connection = True
        elif name == "upload_data_source":
            try:
                data = base64.b64decode(args.get("data_base64", ""), validate=True)
            except (ValueError, TypeError) as e:
                self.send_json(result(f"bad base64: {e}"))
                return
            said = f"{hashlib.sha256(data).hexdigest()} {len(data)} {args.get('format')}"
            name = args.get("name", "")
            if len(name) > 65536:  # a long name: its digest too, to show it arrived whole
                said += f" {hashlib.sha256(name.encode()).hexdigest()}"
            self.send_json(result(said))
        elif name == "announce_tools":
            with self.state.lock:
                self.state.extra_tools += list(args.get("names", []))
            self.start_sse()
            self.sse({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
            self.sse(result("announced"))
        elif name == "delete_everything":
            self.send_json(result("everything deleted"))
        elif name == "verify_email":
            key = "claribi_mcp_" + uuid.uuid4().hex + uuid.uuid4().hex[:8]
            token = "eyJhbGciOiJIUzI1NiJ9." + uuid.uuid4().hex + "." + uuid.uuid4().hex
            with self.state.lock:
                self.state.minted_key, self.state.minted_token = key, token
            payload = {"status": "verified", "api_key": key, "access_token": token,
                       "token_type": "Bearer", "expires_in": 3600,
                       "workspace": {"id": "ws_1", "plan": "trial", "trial_ends": "2026-12-05"},
                       "message": f"Store this API key now, it is shown once: {key}"}
            self.send_json({"jsonrpc": "2.0", "id": rid, "result": {
                "content": [{"type": "text", "text": json.dumps(payload, indent=2)}],
                "structuredContent": payload, "isError": False}})
        elif name == "huge_chunked":  # 100 MB without a Content-Length
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            head = b'{"jsonrpc":"2.0","id":' + json.dumps(rid).encode() + b',"result":{"pad":"'
            try:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(head), head))
                block = b"a" * (1024 * 1024)
                for _ in range(100):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                self.wfile.write(b"3\r\n\"}}\r\n0\r\n\r\n")
            except OSError:
                pass
            self.close_connection = True
        elif name == "text":  # `bytes` of text, lines of 63 'x' and a newline; as JSON or as SSE
            n = int(args.get("bytes", 0))
            text = ("x" * 63 + "\n") * (n // 64) + "x" * (n % 64)
            if args.get("sse"):
                self.start_sse()
                self.sse(result(text))
            else:
                self.send_json(result(text))
        elif name == "status":
            self.send_json({"error": "status test"}, int(args.get("code", 500)))
        elif name in self.state.extra_tools:
            self.send_json(result(f"{name} done"))
        else:
            self.send_json({"jsonrpc": "2.0", "id": rid, "error": {"code": -32602, "message": "unknown tool"}})


class Server(ThreadingHTTPServer):
    """Remembers open connections so stop() can drop them, as a crashed server would."""
    daemon_threads = True
    request_queue_size = 128  # the bridge may open dozens of connections at once

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections = set()
        self.connections_lock = threading.Lock()

    def handle_error(self, request, client_address):
        pass  # a client (or the reset proxy) that drops the connection is part of the tests

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self):
        with self.connections_lock:
            for c in list(self.connections):
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Fixture:
    def __init__(self, port=0):
        self.state = State()
        self.start(port)

    def start(self, port=0):
        self.httpd = Server(("127.0.0.1", port), Handler)
        self.httpd.state = self.state
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd.drop_connections()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/mcp"

    def methods(self):
        with self.state.lock:
            return [(verb, m) for verb, m, _, _ in self.state.log]

    def forget_sessions(self):
        with self.state.lock:
            self.state.sessions.clear()
