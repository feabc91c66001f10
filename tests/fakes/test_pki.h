// A throwaway certificate authority for TLS tests: a self-signed CA that issues server
// certificates for the names a test needs, generated in memory with the OpenSSL 3 API. Shared by
// the unit tests of TLS code and the integration tests that run fake providers over TLS.
// Not thread-safe; test use only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

namespace llmesh::testing {

struct CertifiedKey {
  std::string cert_pem;
  std::string key_pem;
};

class TestPki {
 public:
  // A fresh CA ("llmesh test CA", P-256, valid from an hour ago for a day).
  TestPki();

  const std::string& ca_pem() const { return ca_pem_; }
  // A server certificate signed by the CA with the given subjectAltName entries.
  CertifiedKey Issue(const std::vector<std::string>& dns_names, const std::vector<std::string>& ip_addresses);

 private:
  struct KeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  };
  struct CertFree {
    void operator()(X509* cert) const { X509_free(cert); }
  };

  std::unique_ptr<EVP_PKEY, KeyFree> ca_key_;
  std::unique_ptr<X509, CertFree> ca_cert_;
  std::string ca_pem_;
  long next_serial_ = 2;
};

// A file in a fresh directory under the gtest temp dir, removed with the directory on destruction.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& contents);
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile();

  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

}  // namespace llmesh::testing
