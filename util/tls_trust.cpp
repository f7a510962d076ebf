#include "util/tls_trust.hpp"

#include <fstream>

namespace claribi::tls {
namespace {

constexpr std::size_t k_max_bundle = std::size_t{16} << 20;

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

}  // namespace

Result<std::shared_ptr<const Trust>> resolve(const std::string& extra_ca_file, const EnvLookup& env,
                                             const std::vector<std::string>& bundles) {
  auto t = std::make_shared<Trust>();
  std::string base;
  if (auto f = env("SSL_CERT_FILE"); f && !f->empty()) {
    base = *f;
  } else {
    for (const auto& b : bundles) {
      if (readable(b)) {
        base = b;
        break;
      }
    }
  }
  if (auto d = env("SSL_CERT_DIR"); d && !d->empty()) {
    // OpenSSL's list of folders; libcurl takes one. "C:\\certs" is one folder, not two.
    t->ca_dir = d->size() > 2 && (*d)[1] == ':' ? *d : d->substr(0, d->find(':'));
  }
  if (extra_ca_file.empty()) {
    // Named even when it is libcurl's built-in default: that one is Debian's path, and RHEL
    // or SUSE keep theirs elsewhere. Empty on macOS and Windows: the OS's store stays.
    t->ca_file = base;
    return std::shared_ptr<const Trust>(t);
  }
  auto extra = read_bundle(extra_ca_file, "the --ca-file");
  if (!extra) return fail(extra.error().message);
  if (extra->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return fail("the --ca-file " + extra_ca_file + " holds no PEM certificate");
  }
  if (base.empty()) {  // macOS, Windows: no bundle file to add to; as before, this one file
    t->ca_file = extra_ca_file;
    return std::shared_ptr<const Trust>(t);
  }
  auto platform = read_bundle(base, "the CA bundle");
  if (!platform) return fail(platform.error().message);
  t->ca_blob = std::move(*platform);
  if (!t->ca_blob.empty() && t->ca_blob.back() != '\n') t->ca_blob += '\n';
  t->ca_blob += *extra;
  return std::shared_ptr<const Trust>(t);
}

void apply(CURL* handle, const Trust* trust) {
  if (trust == nullptr) return;
  if (!trust->ca_blob.empty()) {
    curl_blob blob{const_cast<char*>(trust->ca_blob.data()), trust->ca_blob.size(),
                   CURL_BLOB_NOCOPY};
    curl_easy_setopt(handle, CURLOPT_CAINFO_BLOB, &blob);
  } else if (!trust->ca_file.empty()) {
    curl_easy_setopt(handle, CURLOPT_CAINFO, trust->ca_file.c_str());
  }
  if (!trust->ca_dir.empty()) curl_easy_setopt(handle, CURLOPT_CAPATH, trust->ca_dir.c_str());
}

}  // namespace claribi::tls
