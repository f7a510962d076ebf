#!/usr/bin/env python3
"""TLS trust through the OS's own certificate store, with --ca-file added to it, against two
loopback TLS servers signed by throwaway CAs. CA "os" goes into the OS store; CA "file" is
given only as --ca-file.
  - before: the os site is refused (its CA is unknown);
  - CA "os" in the store: the os site is reachable with no option, the file site is not;
  - with --ca-file (CA "file"): both sites are reachable: the file adds to the store; a
    third site, whose CA is in neither, is refused;
  - CA "os" is taken out of the store again, whatever happened.
Where the store is:
  macOS     the admin trust settings (security add-trusted-cert -d, under sudo), which the
            bridge reads from the keychain and adds to Apple's bundle
  Windows   the machine's Root store (certutil -addstore, elevated), which Schannel trusts
  wine      the current user's Root store, written to wine's registry (scripts/build-windows)

Usage: os_trust.py [--wine WINE] BRIDGE   (for .github/workflows/platforms.yml and
scripts/build-windows; it changes the machine's trust store, so CI runners only)
"""
import hashlib
import os
import platform
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fault"))
from test_trust import Site, lists_tools  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

ROOT_KEY = r"HKCU\Software\Microsoft\SystemCertificates\Root\Certificates"


def der_of(ca_file):
    cert = x509.load_pem_x509_certificate(open(ca_file, "rb").read())
    return cert.public_bytes(serialization.Encoding.DER)


class Store:
    """Puts a CA into the OS store and takes it out again."""

    def __init__(self, wine):
        self.wine = wine

    def run(self, *argv):
        subprocess.run(list(argv), check=True, capture_output=True, timeout=120)

    def add(self, ca_file):
        if self.wine:
            # A system store's certificate in the registry: its SHA-1 thumbprint names the key;
            # "Blob" holds the serialized properties, here only CERT_CERT_PROP_ID (32) with
            # the DER certificate: (property id, 1, size) as little-endian DWORDs, then data.
            der = der_of(ca_file)
            blob = (32).to_bytes(4, "little") + (1).to_bytes(4, "little") + len(der).to_bytes(4, "little") + der
            key = ROOT_KEY + "\\" + hashlib.sha1(der).hexdigest().upper()
            self.run(self.wine, "reg", "add", key, "/v", "Blob", "/t", "REG_BINARY", "/d", blob.hex(), "/f")
        elif sys.platform == "darwin":
            # Changing admin trust settings asks for authorization in a dialog even under sudo
            # since macOS 11, unless the rule allows it: a CI runner has nobody to click.
            self.run("sudo", "security", "authorizationdb", "write", "com.apple.trust-settings.admin", "allow")
            self.run("sudo", "security", "add-trusted-cert", "-d", "-r", "trustRoot", "-p", "ssl", "-k",
                     "/Library/Keychains/System.keychain", ca_file)
        elif sys.platform == "win32":
            self.run("certutil", "-f", "-addstore", "Root", ca_file)
        else:
            raise SystemExit("os_trust: no OS certificate store to test on " + platform.system())

    def remove(self, ca_file):
        der = der_of(ca_file)
        if self.wine:
            key = ROOT_KEY + "\\" + hashlib.sha1(der).hexdigest().upper()
            subprocess.run([self.wine, "reg", "delete", key, "/f"], capture_output=True, timeout=120)
        elif sys.platform == "darwin":
            subprocess.run(["sudo", "security", "remove-trusted-cert", "-d", ca_file], capture_output=True)
            subprocess.run(["sudo", "security", "delete-certificate", "-Z", hashlib.sha1(der).hexdigest().upper(),
                            "/Library/Keychains/System.keychain"], capture_output=True)
        elif sys.platform == "win32":
            subprocess.run(["certutil", "-delstore", "Root", hashlib.sha1(der).hexdigest()], capture_output=True)


def main():
    args = sys.argv[1:]
    wine = None
    if args[:1] == ["--wine"]:
        wine, args = args[1], args[2:]
    bridge = args[0]
    folder = tempfile.mkdtemp(prefix="claribi-os-trust-")
    os_site, file_site, other_site = Site(folder, "os"), Site(folder, "file"), Site(folder, "other")
    store = Store(wine)

    def tools(site, *flags):
        env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
        store_flags = [] if (wine or sys.platform == "win32") else ["--credential-store", "file"]
        env["HOME"] = folder
        # By name: libcurl's own check of a chain on Windows (with a CA file) matches DNS
        # names only, not IP addresses.
        url = site.url.replace("//127.0.0.1:", "//localhost:")
        argv = ([wine] if wine else []) + [bridge, *store_flags, "--no-oauth", *flags, "tools", url]
        p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout + p.stderr

    def expect(what, result, reachable):
        if lists_tools(result) != reachable:
            raise SystemExit(f"os_trust: {what}: expected {'reachable' if reachable else 'refused'}:\n{result[1]}")
        print(f"  {what}: {'reachable' if reachable else 'refused'}")

    # Wine's Schannel checks no certificate by itself: without a CA file every site passes
    # there, so the cases without --ca-file say nothing under wine. With one, libcurl checks
    # the chain through crypt32 against exactly the certificates it is given.
    native = wine is None
    try:
        if native:
            expect("os site, its CA unknown", tools(os_site), False)
        store.add(os_site.ca_file)
        if native:
            expect("os site, its CA in the OS store", tools(os_site), True)
            expect("file site, no --ca-file", tools(file_site), False)
        expect("os site, with --ca-file", tools(os_site, "--ca-file", file_site.ca_file), True)
        expect("file site, with --ca-file", tools(file_site, "--ca-file", file_site.ca_file), True)
        expect("a third site, with --ca-file", tools(other_site, "--ca-file", file_site.ca_file), False)
    finally:
        store.remove(os_site.ca_file)
        for site in (os_site, file_site, other_site):
            site.close()
    print("os_trust: the OS store is trusted, and --ca-file adds to it")


if __name__ == "__main__":
    main()
