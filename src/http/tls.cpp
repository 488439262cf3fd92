#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "caliper/http/server.h"

namespace caliper::http {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

Status OpensslError(const std::string& what) {
  return Error(ErrorCode::kCryptoFailed, "making the TLS certificate: " + what);
}

}  // namespace

Status MakeSelfSignedCertificate(const std::string& cert_file, const std::string& key_file) {
  PKeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpensslError("key generation failed");
  X509Ptr cert(X509_new());
  if (!cert) return OpensslError("X509_new failed");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (FILE* r = std::fopen("/dev/urandom", "rb")) {
    std::unique_ptr<FILE, FileCloser> closer(r);
    if (std::fread(serial, 1, sizeof serial, r) != sizeof serial) return OpensslError("no randomness");
  } else {
    return OpensslError("no /dev/urandom");
  }
  serial[0] &= 0x7F;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 825L * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Caliper"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"},
                            std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                            std::pair{NID_ext_key_usage, "serverAuth"}}) {
    ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1) return OpensslError("extension failed");
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return OpensslError("signing failed");

  std::filesystem::create_directories(std::filesystem::path(key_file).parent_path());
  const std::string key_tmp = key_file + ".tmp";
  {
    int fd = ::open(key_tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return Error(ErrorCode::kIo, "cannot write " + key_tmp);
    std::unique_ptr<FILE, FileCloser> f(fdopen(fd, "wb"));
    if (!f || PEM_write_PrivateKey(f.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      return Error(ErrorCode::kIo, "cannot write " + key_tmp);
    }
  }
  const std::string cert_tmp = cert_file + ".tmp";
  {
    std::unique_ptr<FILE, FileCloser> f(std::fopen(cert_tmp.c_str(), "wb"));
    if (!f || PEM_write_X509(f.get(), cert.get()) != 1) return Error(ErrorCode::kIo, "cannot write " + cert_tmp);
  }
  std::error_code ec;
  std::filesystem::rename(key_tmp, key_file, ec);
  if (!ec) std::filesystem::rename(cert_tmp, cert_file, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot install the TLS files: " + ec.message());
  return Status::Ok();
}

}  // namespace caliper::http
