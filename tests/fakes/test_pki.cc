#include "tests/fakes/test_pki.h"

#include <stdlib.h>

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace llmesh::testing {
namespace {

// Test scaffolding: a failure here means the machine's OpenSSL is broken, so stop loudly.
void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "test PKI: %s failed\n", what);
    std::abort();
  }
}

std::string ToPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(PEM_write_bio_X509(bio, cert) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  return pem;
}

std::string ToPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1, "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  return pem;
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_nconf_nid(nullptr, &context, nid, value.c_str());
  Check(extension != nullptr, "X509V3_EXT_nconf_nid");
  Check(X509_add_ext(cert, extension, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(extension);
}

// A certificate for `key` named `common_name`, not yet signed and without extensions.
X509* NewCertificate(EVP_PKEY* key, const std::string& common_name, long serial) {
  X509* cert = X509_new();
  Check(cert != nullptr, "X509_new");
  Check(X509_set_version(cert, 2) == 1, "X509_set_version");
  Check(ASN1_INTEGER_set(X509_get_serialNumber(cert), serial) == 1, "ASN1_INTEGER_set");
  Check(X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != nullptr, "notBefore");
  Check(X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600) != nullptr, "notAfter");
  Check(X509_set_pubkey(cert, key) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert);
  Check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) == 1,
        "X509_NAME_add_entry_by_txt");
  return cert;
}

}  // namespace

TestPki::TestPki() {
  ca_key_.reset(EVP_EC_gen("P-256"));
  Check(ca_key_ != nullptr, "EVP_EC_gen");
  ca_cert_.reset(NewCertificate(ca_key_.get(), "llmesh test CA", 1));
  X509* ca = ca_cert_.get();
  Check(X509_set_issuer_name(ca, X509_get_subject_name(ca)) == 1, "X509_set_issuer_name");
  AddExtension(ca, ca, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(ca, ca, NID_subject_key_identifier, "hash");
  Check(X509_sign(ca, ca_key_.get(), EVP_sha256()) > 0, "X509_sign (CA)");
  ca_pem_ = ToPem(ca);
}

CertifiedKey TestPki::Issue(const std::vector<std::string>& dns_names, const std::vector<std::string>& ip_addresses) {
  std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_EC_gen("P-256"));
  Check(key != nullptr, "EVP_EC_gen");
  const std::string common_name = dns_names.empty() ? ip_addresses.at(0) : dns_names.front();
  std::unique_ptr<X509, CertFree> cert(NewCertificate(key.get(), common_name, next_serial_++));
  Check(X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert_.get())) == 1, "X509_set_issuer_name");
  std::vector<std::string> alt_names;
  for (const std::string& name : dns_names) alt_names.push_back(absl::StrCat("DNS:", name));
  for (const std::string& ip : ip_addresses) alt_names.push_back(absl::StrCat("IP:", ip));
  AddExtension(cert.get(), ca_cert_.get(), NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(cert.get(), ca_cert_.get(), NID_key_usage, "critical,digitalSignature");
  AddExtension(cert.get(), ca_cert_.get(), NID_ext_key_usage, "serverAuth");
  AddExtension(cert.get(), ca_cert_.get(), NID_subject_alt_name, absl::StrJoin(alt_names, ","));
  AddExtension(cert.get(), ca_cert_.get(), NID_authority_key_identifier, "keyid:always");
  Check(X509_sign(cert.get(), ca_key_.get(), EVP_sha256()) > 0, "X509_sign (server)");
  return CertifiedKey{ToPem(cert.get()), ToPem(key.get())};
}

TempFile::TempFile(const std::string& name, const std::string& contents) {
  dir_ = absl::StrCat(::testing::TempDir(), "llmesh-pki-XXXXXX");
  Check(mkdtemp(dir_.data()) != nullptr, "mkdtemp");
  path_ = absl::StrCat(dir_, "/", name);
  std::ofstream out(path_, std::ios::binary);
  out << contents;
  out.close();
  Check(out.good(), "writing a temp file");
}

TempFile::~TempFile() {
  std::remove(path_.c_str());
  std::remove(dir_.c_str());
}

}  // namespace llmesh::testing
