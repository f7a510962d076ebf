#!/usr/bin/env python3
"""Which certificate authorities the bridge trusts, against loopback TLS servers signed by
throwaway CAs: SSL_CERT_FILE and SSL_CERT_DIR are honoured as OpenSSL honours them, and
--ca-file adds to the bundle in force instead of replacing it.

Usage: test_trust.py BRIDGE_BINARY [TEST_NAME...]   (--list prints the test names)
"""
import datetime
import ipaddress
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import claribi_fixture  # noqa: E402
import test_faults  # noqa: E402


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def certificate(subject, issuer, key, signer, ca):
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
         .not_valid_after(now + datetime.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                         x509.DNSName("localhost")]), critical=False)
    return b.sign(signer, hashes.SHA256())


class ClosingHandler(claribi_fixture.Handler):
    """Closes each connection after its answer: every request needs a TLS handshake of its own."""

    def end_headers(self):
        self.send_header("Connection", "close")
        super().end_headers()


class Site:
    """A CA of its own, and the clariBI fixture over TLS with a certificate it signed."""

    def __init__(self, folder, name, handler=claribi_fixture.Handler):
        name_ = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"claribi test CA {name}")])
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = certificate(name_, name_, ca_key, ca_key, True)
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), name_, key, ca_key,
                           False)
        self.ca_file = os.path.join(folder, f"ca-{name}.pem")
        open(self.ca_file, "wb").write(pem(ca))
        chain = os.path.join(folder, f"server-{name}.pem")
        open(chain, "wb").write(pem(leaf) + key.private_bytes(serialization.Encoding.PEM,
                                                              serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption()))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(chain)
        self.httpd = claribi_fixture.serve(0, handler)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}/mcp/v1/"

    def close(self):
        self.httpd.shutdown()


class Sites:
    def __init__(self, handler=claribi_fixture.Handler):
        self.folder = tempfile.mkdtemp(prefix="claribi-trust-")
        self.a = Site(self.folder, "a", handler)
        self.b = Site(self.folder, "b", handler)

    def tools(self, site, *flags, env=None):
        """`claribi-bridge tools` against `site`: (exit code, stdout + stderr)."""
        e = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
        e.update(env or {})
        e["HOME"] = self.folder
        p = subprocess.run([test_faults.BRIDGE, "--credential-store", "file", "--no-oauth", *flags, "tools",
                            site.url], env=e, capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout + p.stderr

    def close(self):
        self.a.close()
        self.b.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def lists_tools(result):
    code, out = result
    return code == 0 and "check_pricing" in out


def test_an_unknown_ca_is_refused(fx):
    s = Sites()
    try:
        code, out = s.tools(s.a)
        assert code != 0 and "certificate" in out.lower(), out
    finally:
        s.close()


def test_ssl_cert_file_replaces_the_platform_bundle_as_in_openssl(fx):
    s = Sites()
    try:
        assert lists_tools(s.tools(s.a, env={"SSL_CERT_FILE": s.a.ca_file}))
        assert not lists_tools(s.tools(s.b, env={"SSL_CERT_FILE": s.a.ca_file}))
    finally:
        s.close()


def hashed_folder(s, ca_file):
    """A folder in `s`'s temporary folder holding `ca_file` under OpenSSL's hashed name."""
    certs = os.path.join(s.folder, "certs")
    os.mkdir(certs)
    shutil.copy(ca_file, certs)
    subprocess.run(["openssl", "rehash", certs], check=True, capture_output=True)
    return certs


def test_ssl_cert_dir_is_honoured(fx):
    s = Sites()
    try:
        certs = hashed_folder(s, s.b.ca_file)
        assert lists_tools(s.tools(s.b, env={"SSL_CERT_DIR": certs}))
    finally:
        s.close()


def test_ca_file_adds_to_the_bundle_in_force(fx):
    # SSL_CERT_FILE stands for the platform's bundle (CA b); --ca-file brings CA a. Both
    # sites must work: a corporate CA file must not break every host it does not cover.
    s = Sites()
    try:
        env = {"SSL_CERT_FILE": s.b.ca_file}
        assert lists_tools(s.tools(s.a, "--ca-file", s.a.ca_file, env=env))
        assert lists_tools(s.tools(s.b, "--ca-file", s.a.ca_file, env=env))
    finally:
        s.close()


def test_a_ca_file_repeating_a_bundle_certificate_is_harmless(fx):
    # The bundle in force already holds CA a (and b); the --ca-file brings a again. OpenSSL
    # builds where a repeated certificate fails the whole in-memory bundle would refuse both.
    s = Sites()
    try:
        both = os.path.join(s.folder, "both.pem")
        open(both, "wb").write(open(s.a.ca_file, "rb").read() + open(s.b.ca_file, "rb").read())
        env = {"SSL_CERT_FILE": both}
        assert lists_tools(s.tools(s.a, "--ca-file", s.a.ca_file, env=env))
        assert lists_tools(s.tools(s.b, "--ca-file", s.a.ca_file, env=env))
    finally:
        s.close()


def test_a_ca_file_without_certificates_is_refused_by_name(fx):
    s = Sites()
    try:
        bogus = os.path.join(s.folder, "bogus.pem")
        open(bogus, "w").write("not a certificate\n")
        code, out = s.tools(s.a, "--ca-file", bogus)
        assert code != 0 and f"the --ca-file {bogus} holds no PEM certificate" in out, out
    finally:
        s.close()


def test_the_ca_bundle_is_read_once_not_on_every_connection(fx):
    # libcurl keeps the CA store it built for later connections only when it came from a file
    # alone; the folder libcurl names by default beside the bundle (/etc/ssl/certs) ruled that
    # out, and every TLS connection read and parsed the whole bundle again (about 140
    # certificates: 27 to 55 ms a connection). Here every answer closes its connection, and
    # the bundle is gone once the session is up: later calls must still get through.
    s = Sites(ClosingHandler)
    try:
        bundle = os.path.join(s.folder, "bundle.pem")
        shutil.copy(s.a.ca_file, bundle)
        b = test_faults.Bridge(s.a.url, "--credential-store", "file", "--no-oauth",
                               env={"SSL_CERT_FILE": bundle, "SSL_CERT_DIR": "", "HOME": s.folder})
        try:
            b.initialize()
            os.remove(bundle)
            for _ in range(3):
                answer = b.tool("check_pricing")
                assert "result" in answer and not answer["result"].get("isError"), answer
        finally:
            b.close()
            b.check_stdout()
    finally:
        s.close()


def test_the_platform_folder_is_read_in_place_of_its_bundle(fx):
    # On Linux the bridge trusts the distribution's hashed folder (/etc/ssl/certs), reading a
    # certificate at a time, rather than parsing the whole bundle beside it at its first
    # connection. In a mount namespace a folder stands in for /etc/ssl/certs that holds CA a
    # under its hashed name and a bundle with no certificate at all: site a must be reached
    # (read from the bundle, that trust would fail every handshake), site b refused.
    if not sys.platform.startswith("linux"):
        return
    s = Sites()
    try:
        certs = hashed_folder(s, s.a.ca_file)
        open(os.path.join(certs, "ca-certificates.crt"), "w").write("no certificate here\n")
        bind = 'mount --bind "$0" /etc/ssl/certs && exec "$@"'
        flags = next((f for f in (["-m"], ["-r", "-m"])
                      if subprocess.run(["unshare", *f, "sh", "-c", bind, certs, "true"],
                                        capture_output=True).returncode == 0), None)
        if flags is None:
            print("not run: no mount namespace can be made here", file=sys.stderr)
            return
        e = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
        e["HOME"] = s.folder

        def tools(site):
            p = subprocess.run(["unshare", *flags, "sh", "-c", bind, certs, test_faults.BRIDGE,
                                "--credential-store", "file", "--no-oauth", "tools", site.url],
                               env=e, capture_output=True, text=True, timeout=60)
            return p.returncode, p.stdout + p.stderr

        assert lists_tools(tools(s.a))
        code, out = tools(s.b)
        assert code != 0 and "certificate" in out.lower(), out
    finally:
        s.close()


def main():
    test_faults.suite_main(globals())


if __name__ == "__main__":
    main()
