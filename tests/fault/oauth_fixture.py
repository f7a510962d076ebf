"""An OAuth 2.1 authorization server in front of the fixture MCP server, for login tests.

It publishes protected resource metadata (RFC 9728) and authorization server metadata
(RFC 8414), registers clients (RFC 7591), signs users in at once (/authorize redirects
straight back with a code, as for a user already signed in), checks PKCE S256 and the
redirect URI, and issues access tokens of a chosen lifetime with refresh tokens. The MCP
endpoint then accepts only a live access token. Counters let tests see how many logins,
refreshes and registrations happened; `revoke_refresh_tokens` makes every refresh fail.
"""
import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse


class OAuthServer:
    def __init__(self, base_url, lifetime=3600, token_prefix="at-", secret_prefix="cs-", code_prefix="code-",
                 authorization_server=None):
        self.base_url = base_url  # a function: the fixture's http://127.0.0.1:PORT
        # What the resource metadata names as authorization server (default: this one).
        self.authorization_server = authorization_server
        self.lifetime = lifetime
        self.token_prefix = token_prefix
        self.secret_prefix = secret_prefix
        self.code_prefix = code_prefix
        self.lock = threading.Lock()
        self.clients = {}   # client_id -> registration
        self.codes = {}     # code -> what /authorize was asked
        self.access = {}    # access token -> expiry (time.time())
        self.refresh = {}   # refresh token -> client_id
        self.stats = {"register": 0, "authorize": 0, "authorization_code": 0, "refresh_token": 0,
                      "refresh_refused": 0, "mcp_401": 0}
        self.issued = []    # every secret value handed out, for leak checks
        self.verifiers = []
        self.devices = {}   # device_code -> token polls so far
        self.extra_metadata = {}  # more authorization server metadata (subclasses)
        self.token_type = "Bearer"
        self.authorize_queries = []  # every /authorize query, decoded
        self.token_forms = []        # every /token form, decoded

    @property
    def issuer(self):
        return self.base_url()

    def count(self, name):
        with self.lock:
            return self.stats[name]

    def revoke_refresh_tokens(self):
        with self.lock:
            self.refresh.clear()

    def expire_access_tokens(self):
        with self.lock:
            for t in self.access:
                self.access[t] = 0

    # ---- the MCP side ---------------------------------------------------------------------

    def authorized(self, header, request=None):  # request: the handler, for subclasses
        if not header or not header.startswith("Bearer "):
            return False
        with self.lock:
            expiry = self.access.get(header[7:])
            return expiry is not None and expiry > time.time()

    def challenge(self):
        with self.lock:
            self.stats["mcp_401"] += 1
        return ('Bearer error="invalid_token", resource_metadata="%s/.well-known/oauth-protected-resource/mcp"'
                % self.issuer)

    def challenge_headers(self):
        return {"WWW-Authenticate": self.challenge()}

    # ---- HTTP -----------------------------------------------------------------------------

    def handle_get(self, h):
        path, _, query = h.path.partition("?")
        if path == "/.well-known/oauth-protected-resource/mcp":
            h.send_json({"resource": self.issuer + "/mcp",
                         "authorization_servers": [self.authorization_server or self.issuer],
                         "scopes_supported": ["mcp:tools"]})
            return True
        if path == "/.well-known/oauth-authorization-server":
            h.send_json({
                "issuer": self.issuer,
                "authorization_endpoint": self.issuer + "/authorize",
                "token_endpoint": self.issuer + "/token",
                "registration_endpoint": self.issuer + "/register",
                "device_authorization_endpoint": self.issuer + "/device",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "none"],
                "authorization_response_iss_parameter_supported": True,
                "scopes_supported": ["mcp:tools", "offline_access"], **self.extra_metadata})
            return True
        if path == "/authorize":
            q = dict(urllib.parse.parse_qsl(query))
            with self.lock:
                self.stats["authorize"] += 1
                self.authorize_queries.append(q)
                client = self.clients.get(q.get("client_id"))
            if client is None or q.get("redirect_uri") not in client["redirect_uris"]:
                h.send_json({"error": "invalid_request", "error_description": "unknown client or redirect"}, 400)
                return True
            if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                h.send_json({"error": "invalid_request", "error_description": "PKCE S256 required"}, 400)
                return True
            code = self.code_prefix + secrets.token_urlsafe(16)
            with self.lock:
                self.codes[code] = q
                self.issued.append(code)
            target = q["redirect_uri"] + "?" + urllib.parse.urlencode(
                {"code": code, "state": q.get("state", ""), "iss": self.issuer})
            h.send_response(302)
            h.send_header("Location", target)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return True
        return False

    def token_request_allowed(self, h, form):
        """Subclasses refuse a token request here (having answered it); True: go on."""
        return True

    def client_of(self, form):
        """The registered client a form authenticates (client_secret_post), or None."""
        with self.lock:
            client = self.clients.get(form.get("client_id"))
        return client if client and form.get("client_secret") == client["client_secret"] else None

    def handle_post(self, h, body):
        path = h.path.partition("?")[0]
        if path == "/register":
            req = json.loads(body)
            client_id = "client-" + secrets.token_hex(6)
            reg = {"client_id": client_id, "redirect_uris": req.get("redirect_uris", []),
                   "token_endpoint_auth_method": "client_secret_post",
                   "client_secret": self.secret_prefix + secrets.token_urlsafe(16)}
            with self.lock:
                self.stats["register"] += 1
                self.clients[client_id] = reg
                self.issued.append(reg["client_secret"])
            h.send_json(reg, 201)
            return True
        if path == "/device":  # RFC 8628: approved after the first poll
            form = dict(urllib.parse.parse_qsl(body.decode()))
            client = self.client_of(form)
            if client is None:
                h.send_json({"error": "invalid_client"}, 401)
                return True
            code = "dc-" + secrets.token_urlsafe(16)
            with self.lock:
                self.devices[code] = 0
            h.send_json({"device_code": code, "user_code": "WDJB-MJHT", "interval": 1, "expires_in": 60,
                         "verification_uri": self.issuer + "/activate"})
            return True
        if path == "/token":
            form = dict(urllib.parse.parse_qsl(body.decode()))
            with self.lock:
                self.token_forms.append(form)
            if not self.token_request_allowed(h, form):
                return True
            client = self.client_of(form)
            if client is None:
                h.send_json({"error": "invalid_client"}, 401)
                return True
            grant = form.get("grant_type")
            if grant == "authorization_code":
                with self.lock:
                    asked = self.codes.pop(form.get("code"), None)
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if asked is None or asked.get("code_challenge") != challenge or \
                        asked.get("redirect_uri") != form.get("redirect_uri"):
                    h.send_json({"error": "invalid_grant"}, 400)
                    return True
                with self.lock:
                    self.stats["authorization_code"] += 1
                    self.verifiers.append(verifier)
            elif grant == "urn:ietf:params:oauth:grant-type:device_code":
                with self.lock:
                    polls = self.devices.get(form.get("device_code"))
                    if polls is None:
                        h.send_json({"error": "invalid_grant"}, 400)
                        return True
                    self.devices[form["device_code"]] = polls + 1
                if polls == 0:
                    h.send_json({"error": "authorization_pending"}, 400)
                    return True
                with self.lock:
                    self.stats["device_code"] = self.stats.get("device_code", 0) + 1
            elif grant == "refresh_token":
                with self.lock:
                    known = self.refresh.get(form.get("refresh_token"))
                    if known != client["client_id"]:
                        self.stats["refresh_refused"] += 1
                        h.send_json({"error": "invalid_grant", "error_description": "refresh token revoked"}, 400)
                        return True
                    self.stats["refresh_token"] += 1
            else:
                h.send_json({"error": "unsupported_grant_type"}, 400)
                return True
            access = self.token_prefix + secrets.token_urlsafe(24)
            refresh = form.get("refresh_token") if grant == "refresh_token" else \
                "rt-" + self.token_prefix + secrets.token_urlsafe(24)
            with self.lock:
                self.access[access] = time.time() + self.lifetime
                self.refresh[refresh] = client["client_id"]
                self.issued += [access, refresh]
            h.send_json({"access_token": access, "token_type": self.token_type, "expires_in": self.lifetime,
                         "refresh_token": refresh, "scope": "mcp:tools offline_access"})
            return True
        return False
