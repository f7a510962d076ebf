"""The fixture's authorization server with DPoP (RFC 9449): it lists ES256, wants a proof on
every token request (and, once, a nonce), issues DPoP tokens, and has the MCP endpoint check
every request's proof as a resource server does (4.3): signature with the proof's own key,
typ, alg, no private key, htm, htu, iat, ath, a jti never seen before, the key the token was
issued to, and its current nonce, which it changes every `rotate_every` requests.
"""
import base64
import hashlib
import json
import threading
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from oauth_fixture import OAuthServer


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def check_proof(proof, method, url, token=None):
    """The proof's claims and key thumbprint, or raises AssertionError saying what is wrong."""
    assert proof and "," not in proof, "one DPoP header"
    head_b64, claims_b64, sig_b64 = proof.split(".")
    head, claims = json.loads(b64d(head_b64)), json.loads(b64d(claims_b64))
    assert head.get("typ") == "dpop+jwt" and head.get("alg") == "ES256", head
    jwk = head["jwk"]
    assert "d" not in jwk and jwk.get("kty") == "EC" and jwk.get("crv") == "P-256", jwk
    key = ec.EllipticCurvePublicNumbers(int.from_bytes(b64d(jwk["x"]), "big"),
                                        int.from_bytes(b64d(jwk["y"]), "big"), ec.SECP256R1()).public_key()
    raw = b64d(sig_b64)
    assert len(raw) == 64, "r || s"
    try:
        key.verify(utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
                   f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise AssertionError("the signature does not verify")
    assert isinstance(claims.get("jti"), str) and len(claims["jti"]) >= 16, claims
    assert claims.get("htm") == method, (claims, method)
    assert claims.get("htu") == url.split("?")[0].split("#")[0], (claims, url)
    assert abs(claims.get("iat", 0) - time.time()) < 60, claims
    if token is not None:
        assert claims.get("ath") == b64e(hashlib.sha256(token.encode()).digest()), "ath"
    thumb = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return claims, b64e(hashlib.sha256(thumb.encode()).digest())


class DpopOAuthServer(OAuthServer):
    def __init__(self, base_url, rotate_every=250, **kw):
        super().__init__(base_url, **kw)
        self.extra_metadata = {"dpop_signing_alg_values_supported": ["ES256"]}
        self.token_type = "DPoP"
        self.rotate_every = rotate_every
        self.dpop_lock = threading.Lock()
        self.jtis = []          # every jti of an accepted MCP request's proof
        self.violations = []    # what was wrong with a refused proof
        self.keys = set()       # thumbprints token requests proved
        self.as_nonce = "as-n1"
        self.rs_nonce = "rs-n0"
        self.served = 0
        self.stats.update({"as_nonce_challenges": 0, "rs_nonce_challenges": 0, "dpop_ok": 0})
        self._nonce_refusal = threading.local()

    def token_request_allowed(self, h, form):
        try:
            claims, thumb = check_proof(h.headers.get("DPoP"), "POST", self.issuer + "/token")
        except AssertionError as e:
            with self.dpop_lock:
                self.violations.append(f"token request: {e}")
            h.send_json({"error": "invalid_dpop_proof", "error_description": str(e)}, 400)
            return False
        if claims.get("nonce") != self.as_nonce:
            with self.lock:
                self.stats["as_nonce_challenges"] += 1
            h.send_json({"error": "use_dpop_nonce"}, 400, {"DPoP-Nonce": self.as_nonce})
            return False
        with self.dpop_lock:
            self.keys.add(thumb)
        return True

    def authorized(self, header, request=None):
        self._nonce_refusal.value = False
        if not header or not header.startswith("DPoP ") or request is None:
            return False
        token = header[5:]
        if not super().authorized("Bearer " + token):
            return False
        url = self.issuer + request.path
        try:
            claims, thumb = check_proof(request.headers.get("DPoP"), request.command, url, token)
            assert thumb in self.keys, "a key no token was issued to"
        except AssertionError as e:
            with self.dpop_lock:
                self.violations.append(f"{request.command} {request.path}: {e}")
            return False
        with self.dpop_lock:
            if claims["jti"] in self.jtis:
                self.violations.append(f"jti {claims['jti']} used twice")
                return False
            self.jtis.append(claims["jti"])
            if claims.get("nonce") != self.rs_nonce:
                self.stats["rs_nonce_challenges"] += 1
                self._nonce_refusal.value = True
                return False
            self.served += 1
            if self.served % self.rotate_every == 0:
                self.rs_nonce = f"rs-n{self.served}"
            self.stats["dpop_ok"] += 1
        return True

    def challenge_headers(self):
        if getattr(self._nonce_refusal, "value", False):
            return {"WWW-Authenticate": 'DPoP error="use_dpop_nonce", error_description="nonce"',
                    "DPoP-Nonce": self.rs_nonce}
        return {"WWW-Authenticate": 'DPoP error="invalid_token", resource_metadata='
                                    f'"{self.issuer}/.well-known/oauth-protected-resource/mcp"'}
