#include "util/tls_trust.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

using namespace claribi;

namespace {

// A throwaway self-signed CA ("claribi unit CA a"), as OpenSSL writes it.
const std::string k_ca_pem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBjjCCATWgAwIBAgIUUjRv50aZyrR5WnBMtv6fsUxeo+cwCgYIKoZIzj0EAwIw\n"
    "HDEaMBgGA1UEAwwRY2xhcmliaSB1bml0IENBIGEwIBcNMjYxMjAxMDYwNTUzWhgP\n"
    "MjEyNjExMDcwNjA1NTNaMBwxGjAYBgNVBAMMEWNsYXJpYmkgdW5pdCBDQSBhMFkw\n"
    "EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEi5qKSGNIDaLoyKCCk4GSLbLYTYa9Kizr\n"
    "kSQ4wGFPKNTPm5gnJsF91RpvoII8PS4skbeuV7eniexuTSMbS4NJBaNTMFEwHQYD\n"
    "VR0OBBYEFAFHIpdfch6eUT8Gb3fbaGipDLwkMB8GA1UdIwQYMBaAFAFHIpdfch6e\n"
    "UT8Gb3fbaGipDLwkMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIg\n"
    "eQUD448Ph9B8X2e6F13J0yoXQrkKGSukTQMecb+20pgCIHthwAJqfDNtpjl8bRsQ\n"
    "1Ng6Nnpmce1SvpitfdWOxJ38\n"
    "-----END CERTIFICATE-----\n";

std::string der_of(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  REQUIRE(x != nullptr);
  unsigned char* out = nullptr;
  int n = i2d_X509(x, &out);
  std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
  OPENSSL_free(out);
  X509_free(x);
  return der;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

/// A new name in the temporary folder.
std::filesystem::path temp_name(const std::string& suffix) {
  std::random_device random;
  return std::filesystem::temp_directory_path() /
         ("claribi-trust-" + std::to_string(random()) + suffix);
}

/// A temporary file holding `text`, removed at scope end.
struct TempFile {
  std::string path = temp_name(".pem").string();
  explicit TempFile(const std::string& text) { std::ofstream(path, std::ios::binary) << text; }
  ~TempFile() { std::remove(path.c_str()); }
};

/// A temporary folder holding `names` (empty files), removed at scope end.
struct TempFolder {
  std::filesystem::path path = temp_name("");
  explicit TempFolder(std::initializer_list<const char*> names) {
    std::filesystem::create_directory(path);
    for (const char* name : names) std::ofstream(path / name) << "";
  }
  ~TempFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST_CASE("a DER certificate becomes the PEM block OpenSSL writes, and reads back") {
  std::string der = der_of(k_ca_pem);
  CHECK(tls::pem_certificate(der) == k_ca_pem);
  CHECK(der_of(tls::pem_certificate(der)) == der);
}

TEST_CASE("a bundle keeps each certificate once, drops the denied ones and adds the rest") {
  std::string a = "certificate a", b = "certificate b", c = "certificate c", d = "certificate d";
  // The base wraps its lines at 76 characters: identity does not depend on the wrapping.
  std::string b_pem = tls::pem_certificate(b);
  std::string b76 = "-----BEGIN CERTIFICATE-----\n" + b_pem.substr(28, b_pem.size() - 28 - 26) +
                    "-----END CERTIFICATE-----\n";
  std::string base = "# a comment outside the blocks\n" + tls::pem_certificate(a) + "\n" + b76;
  std::string extra = tls::pem_certificate(c) + tls::pem_certificate(d) + tls::pem_certificate(a);
  std::string out = tls::compose_bundle(base, {c, a}, {b}, extra);
  CHECK(out == tls::pem_certificate(a) + tls::pem_certificate(c) + tls::pem_certificate(d));
  CHECK(out.find("comment") == std::string::npos);
  // A block cut short at the end is not a certificate.
  CHECK(tls::compose_bundle("-----BEGIN CERTIFICATE-----\nAAAA\n", {}, {}, "").empty());
}

TEST_CASE("the OS store adds to the bundle, unless SSL_CERT_FILE replaces the platform's trust") {
  TempFile bundle(tls::pem_certificate("bundle root"));
  int reads = 0;
  tls::Platform p{{"/nonexistent/bundle.pem", bundle.path},
                  [&]() -> Result<tls::OsAnchors> {
                    ++reads;
                    return tls::OsAnchors{{"company root"}, {"bundle root"}};
                  },
                  false,
                  {}};
  auto t = tls::resolve("", env_of({}), p);
  REQUIRE(t);
  CHECK((*t)->ca_file.empty());
  CHECK((*t)->ca_blob == tls::pem_certificate("company root"));
  CHECK(reads == 1);

  auto replaced = tls::resolve("", env_of({{"SSL_CERT_FILE", bundle.path}}), p);
  REQUIRE(replaced);
  CHECK((*replaced)->ca_file == bundle.path);
  CHECK((*replaced)->ca_blob.empty());
  CHECK(reads == 1);
}

TEST_CASE("a store that denies every certificate leaves nothing to trust, and says so") {
  TempFile bundle(tls::pem_certificate("bundle root"));
  tls::Platform p{{bundle.path},
                  []() -> Result<tls::OsAnchors> {
                    return tls::OsAnchors{{}, {"bundle root"}};
                  },
                  false,
                  {}};
  auto t = tls::resolve("", env_of({}), p);
  REQUIRE_FALSE(t);
  CHECK(t.error().message.find("no CA certificate is left to trust") != std::string::npos);
}

TEST_CASE("a native OS store is read only when --ca-file must be added to it") {
  TempFile extra(k_ca_pem);
  int reads = 0;
  tls::Platform p{{},
                  [&]() -> Result<tls::OsAnchors> {
                    ++reads;
                    return tls::OsAnchors{{"store root 1", "store root 2"}, {}};
                  },
                  true,
                  {}};
  auto alone = tls::resolve("", env_of({}), p);
  REQUIRE(alone);
  CHECK(reads == 0);
  CHECK((*alone)->ca_file.empty());
  CHECK((*alone)->ca_blob.empty());

  auto added = tls::resolve(extra.path, env_of({}), p);
  REQUIRE(added);
  CHECK(reads == 1);
  CHECK(count((*added)->ca_blob, "-----BEGIN CERTIFICATE-----") == 3);
  CHECK((*added)->ca_blob.find(k_ca_pem) != std::string::npos);
}

TEST_CASE("an OS store that cannot be read leaves the bundle and the --ca-file") {
  TempFile bundle(tls::pem_certificate("bundle root"));
  TempFile extra(k_ca_pem);
  tls::Platform p{
      {bundle.path}, []() -> Result<tls::OsAnchors> { return fail("locked"); }, false, {}};
  auto alone = tls::resolve("", env_of({}), p);
  REQUIRE(alone);
  CHECK((*alone)->ca_file == bundle.path);
  auto added = tls::resolve(extra.path, env_of({}), p);
  REQUIRE(added);
  CHECK((*added)->ca_blob == tls::pem_certificate("bundle root") + k_ca_pem);
}

TEST_CASE("the platform's hashed folder stands in for its bundle, a --ca-file beside it") {
  TempFile bundle(tls::pem_certificate("bundle root"));
  TempFile extra(k_ca_pem);
  TempFolder folder({"ca-certificates.crt", "Some_Root.pem", "9d6523ce.0", "9d6523ce.1"});
  tls::Platform p{{"/nonexistent/bundle.pem", bundle.path},
                  nullptr,
                  false,
                  {"/nonexistent", folder.path.string()}};

  auto alone = tls::resolve("", env_of({}), p);
  REQUIRE(alone);
  CHECK((*alone)->ca_dir == folder.path.string());
  CHECK((*alone)->ca_file.empty());
  CHECK((*alone)->ca_blob.empty());

  auto added = tls::resolve(extra.path, env_of({}), p);
  REQUIRE(added);
  CHECK((*added)->ca_dir == folder.path.string());
  CHECK((*added)->ca_file == extra.path);
  CHECK((*added)->ca_blob.empty());

  // SSL_CERT_DIR names the folder, SSL_CERT_FILE the whole trust: the platform's is not used.
  auto dir = tls::resolve("", env_of({{"SSL_CERT_DIR", "/other/certs"}}), p);
  REQUIRE(dir);
  CHECK((*dir)->ca_dir == "/other/certs");
  CHECK((*dir)->ca_file == bundle.path);
  // SSL_CERT_FILE and SSL_CERT_DIR naming the platform's own bundle and folder (as machines
  // and container images do) change nothing.
  auto same = tls::resolve(
      extra.path,
      env_of({{"SSL_CERT_FILE", bundle.path}, {"SSL_CERT_DIR", folder.path.string() + "/"}}), p);
  REQUIRE(same);
  CHECK((*same)->ca_dir == folder.path.string());
  CHECK((*same)->ca_file == extra.path);
  TempFile other(tls::pem_certificate("other root"));
  auto file = tls::resolve("", env_of({{"SSL_CERT_FILE", other.path}}), p);
  REQUIRE(file);
  CHECK((*file)->ca_dir.empty());
  CHECK((*file)->ca_file == other.path);
}

TEST_CASE("a folder without hashed names leaves the platform's bundle") {
  TempFile bundle(tls::pem_certificate("bundle root"));
  TempFolder folder({"ca-certificates.crt", "Some_Root.pem", "9d6523ce.pem", "9D6523CE.0",
                     "9d6523c.0", "9d6523ce.", "9d6523ce.r0"});
  tls::Platform p{{bundle.path}, nullptr, false, {folder.path.string()}};
  auto t = tls::resolve("", env_of({}), p);
  REQUIRE(t);
  CHECK((*t)->ca_file == bundle.path);
  CHECK((*t)->ca_dir.empty());
  // Named in SSL_CERT_DIR, it is passed on beside the bundle, as any other folder.
  auto named = tls::resolve("", env_of({{"SSL_CERT_DIR", folder.path.string()}}), p);
  REQUIRE(named);
  CHECK((*named)->ca_file == bundle.path);
  CHECK((*named)->ca_dir == folder.path.string());
}

TEST_CASE("SSL_CERT_DIR gives libcurl its first folder; a Windows path is one folder") {
  tls::Platform p{{}, nullptr, false, {}};
  CHECK(tls::resolve("", env_of({{"SSL_CERT_DIR", "/a/certs:/b/certs"}}), p).value()->ca_dir ==
        "/a/certs");
  CHECK(tls::resolve("", env_of({{"SSL_CERT_DIR", "C:\\certs"}}), p).value()->ca_dir ==
        "C:\\certs");
}

#ifdef _WIN32
TEST_CASE("Windows' ROOT store is read as DER certificates OpenSSL parses") {
  const auto& p = tls::platform();
  REQUIRE(p.store_is_native);
  REQUIRE(p.os_store);
  auto anchors = p.os_store();
  REQUIRE(anchors);
  CHECK(!anchors->trusted.empty());
  for (const auto& der : anchors->trusted) CHECK(der_of(tls::pem_certificate(der)) == der);
}
#endif
