#include "util/tls_trust.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <unordered_set>

#include "util/base64.hpp"
#include "util/log.hpp"

namespace claribi::tls {
namespace {

constexpr std::size_t k_max_bundle = std::size_t{16} << 20;
constexpr std::string_view k_begin = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view k_end = "-----END CERTIFICATE-----";

bool readable(const std::string& path) {
  return std::ifstream(path).good();
}

Result<std::string> read_bundle(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read " + what + " " + path);
  std::string text;
  char chunk[64 * 1024];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (text.size() > k_max_bundle) return fail(what + " " + path + " is larger than 16 MiB");
  }
  return text;
}

/// Whether `dir` holds certificates under OpenSSL's hashed names ("9d6523ce.0"), which is
/// how OpenSSL finds one by its subject without reading the others.
bool hashed(const std::string& dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename().string();
    auto dot = name.find('.');
    if (dot != 8 || dot + 1 == name.size()) continue;
    auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (std::all_of(name.begin(), name.begin() + 8, hex) &&
        std::all_of(name.begin() + 9, name.end(), digit)) {
      return true;
    }
  }
  return false;
}

/// A certificate's identity across PEM texts: its base64 without line breaks.
std::string identity(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  for (char c : body) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') out += c;
  }
  return out;
}

/// Calls `each(block, identity)` for every whole certificate block of `pem`.
template <class F>
void for_each_certificate(std::string_view pem, F each) {
  std::size_t at = 0;
  while ((at = pem.find(k_begin, at)) != std::string_view::npos) {
    std::size_t body = at + k_begin.size();
    std::size_t end = pem.find(k_end, body);
    if (end == std::string_view::npos) return;
    each(pem.substr(at, end + k_end.size() - at), identity(pem.substr(body, end - body)));
    at = end + k_end.size();
  }
}

}  // namespace

std::string pem_certificate(std::string_view der) {
  std::string b64 = base64::encode(der.data(), der.size());
  std::string out(k_begin);
  out += '\n';
  for (std::size_t i = 0; i < b64.size(); i += 64) {
    out.append(b64, i, 64);
    out += '\n';
  }
  out += k_end;
  out += '\n';
  return out;
}

std::string compose_bundle(std::string_view base, const std::vector<std::string>& added,
                           const std::vector<std::string>& denied, std::string_view extra) {
  std::unordered_set<std::string> seen;
  for (const auto& d : denied) seen.insert(base64::encode(d.data(), d.size()));
  std::string out;
  out.reserve(base.size() + extra.size() + added.size() * 2048);
  auto take = [&](std::string_view block, std::string id) {
    if (!seen.insert(std::move(id)).second) return;
    out.append(block);
    out += '\n';
  };
  for_each_certificate(base, take);
  for (const auto& der : added) {
    std::string block = pem_certificate(der);
    block.pop_back();  // its line end: take() adds one
    take(block, base64::encode(der.data(), der.size()));
  }
  for_each_certificate(extra, take);
  return out;
}

Result<std::shared_ptr<const Trust>> resolve(const std::string& extra_ca_file, const EnvLookup& env,
                                             const Platform& platform) {
  auto t = std::make_shared<Trust>();
  std::string base;
  std::string folder;     // the hashed folder beside `base`, if the platform keeps one
  bool replaced = false;  // SSL_CERT_FILE stands for the whole platform trust, as in OpenSSL
  if (auto f = env("SSL_CERT_FILE"); f && !f->empty()) {
    base = *f;
    replaced = true;
  }
  for (std::size_t i = 0; i < platform.bundles.size(); ++i) {
    // An SSL_CERT_FILE naming the platform's own bundle (machines and container images set
    // it so) keeps the folder beside it.
    if (replaced ? platform.bundles[i] != base : !readable(platform.bundles[i])) continue;
    base = platform.bundles[i];
    if (i < platform.folders.size()) folder = platform.folders[i];
    break;
  }
  // The platform's hashed folder in place of its bundle: a handshake reads the certificates
  // it needs from it, where the bundle (Debian's holds about 140) is parsed whole by the
  // first connection, tens of milliseconds of a start over TLS.
  if (!folder.empty() && !hashed(folder)) folder.clear();
  if (auto d = env("SSL_CERT_DIR"); d && !d->empty()) {
    // OpenSSL's list of folders; libcurl takes one. "C:\\certs" is one folder, not two.
    std::string dir = d->size() > 2 && (*d)[1] == ':' ? *d : d->substr(0, d->find(':'));
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    // The platform's own hashed folder (container images often name it) is its bundle
    // again; another folder is read beside the bundle.
    if (dir != folder) {
      t->ca_dir = dir;
      folder.clear();
    }
  }

  OsAnchors os;
  if (!replaced && platform.os_store && (!platform.store_is_native || !extra_ca_file.empty())) {
    if (auto read = platform.os_store()) {
      os = std::move(*read);
    } else {
      CLARIBI_LOG(warn, "the system's certificate store could not be read ("
                            << read.error().message << "); TLS trusts "
                            << (base.empty() ? std::string("libcurl's default") : base)
                            << (extra_ca_file.empty() ? "" : " and the --ca-file") << " only");
    }
  }
  if (extra_ca_file.empty() && os.trusted.empty() && os.denied.empty()) {
    // Named even when it is libcurl's built-in default: that one is Debian's path, and RHEL
    // or SUSE keep theirs elsewhere. Empty on Windows: the OS's store stays.
    if (folder.empty()) {
      t->ca_file = base;
    } else {
      t->ca_dir = folder;
    }
    return std::shared_ptr<const Trust>(t);
  }
  std::string extra;
  if (!extra_ca_file.empty()) {
    auto read = read_bundle(extra_ca_file, "the --ca-file");
    if (!read) return fail(read.error().message);
    if (read->find(k_begin) == std::string::npos) {
      return fail("the --ca-file " + extra_ca_file + " holds no PEM certificate");
    }
    extra = std::move(*read);
  }
  if (!folder.empty() && os.trusted.empty() && os.denied.empty()) {
    // The --ca-file beside the platform's folder: nothing to merge, nor to parse whole.
    t->ca_file = extra_ca_file;
    t->ca_dir = folder;
    return std::shared_ptr<const Trust>(t);
  }
  std::string platform_text;
  if (!base.empty()) {
    auto read = read_bundle(base, "the CA bundle");
    if (!read) return fail(read.error().message);
    platform_text = std::move(*read);
  }
  t->ca_blob = compose_bundle(platform_text, os.trusted, os.denied, extra);
  if (t->ca_blob.empty()) {
    // Every certificate was denied: an empty blob would leave libcurl's default bundle,
    // denied ones included.
    return fail("no CA certificate is left to trust: the system's store marks every one in " +
                (base.empty() ? std::string("the --ca-file") : base) + " as not to be trusted");
  }
  return std::shared_ptr<const Trust>(t);
}

void apply(CURL* handle, const Trust* trust) {
  if (trust == nullptr) return;
  if (!trust->ca_blob.empty()) {
    curl_blob blob{const_cast<char*>(trust->ca_blob.data()), trust->ca_blob.size(),
                   CURL_BLOB_NOCOPY};
    curl_easy_setopt(handle, CURLOPT_CAINFO_BLOB, &blob);
  } else if (!trust->ca_file.empty() || !trust->ca_dir.empty()) {
    // Only what is named here: a folder alone leaves out the bundle libcurl was built to name.
    curl_easy_setopt(handle, CURLOPT_CAINFO,
                     trust->ca_file.empty() ? nullptr : trust->ca_file.c_str());
  } else {
    return;  // libcurl's own (on Windows, Schannel's: the OS store)
  }
  // No folder but the one named here, not even the one libcurl was built to name (Debian's
  // /etc/ssl/certs): beside a folder, libcurl builds the CA store anew for every connection,
  // parsing a whole bundle file again, where it otherwise keeps the store it built from one.
  curl_easy_setopt(handle, CURLOPT_CAPATH, trust->ca_dir.empty() ? nullptr : trust->ca_dir.c_str());
}

}  // namespace claribi::tls
