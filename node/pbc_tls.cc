#include "node/pbc_tls.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <fstream>
#include <utility>

namespace causeway::node {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;

namespace {

// Fails unless `path` can be opened for reading, naming the setting.
Status CheckReadable(const char* setting, const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status::InvalidArgument(std::string(setting) + " '" + path +
                                   "' cannot be read");
  }
  return Status::Ok();
}

}  // namespace

std::string VerifiedCommonName(SSL* ssl) {
  if (SSL_get_verify_result(ssl) != X509_V_OK) return "";
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  X509* cert = SSL_get1_peer_certificate(ssl);
#else
  X509* cert = SSL_get_peer_certificate(ssl);
#endif
  if (cert == nullptr) return "";
  std::string name;
  X509_NAME* subject = X509_get_subject_name(cert);
  int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (at >= 0) {
    ASN1_STRING* data =
        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, data);
    if (n >= 0)
      name.assign(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
    OPENSSL_free(utf8);
  }
  X509_free(cert);
  return name;
}

// Fails unless `path` can be opened for reading, naming the setting.

Status MakeTlsContext(const PbcServerOptions& o,
                      std::unique_ptr<ssl::context>* out) {
  out->reset();
  if (o.tls_cert_file.empty() && o.tls_key_file.empty()) {
    if (!o.tls_ca_file.empty()) {
      return Status::InvalidArgument(
          "tls_ca_file is set but tls_cert_file and tls_key_file are not: "
          "client certificates are only checked over TLS");
    }
    return Status::Ok();
  }
  if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
    return Status::InvalidArgument(
        "tls_cert_file and tls_key_file go together: TLS needs both the "
        "certificate and its private key");
  }
  for (auto [setting, path] : {std::pair{"tls_cert_file", &o.tls_cert_file},
                               std::pair{"tls_key_file", &o.tls_key_file},
                               std::pair{"tls_ca_file", &o.tls_ca_file}}) {
    if (path->empty()) continue;
    Status s = CheckReadable(setting, *path);
    if (!s.ok()) return s;
  }
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  context->set_options(ssl::context::default_workarounds |
                       ssl::context::no_compression);
  boost::system::error_code ec;
  context->use_certificate_chain_file(o.tls_cert_file, ec);
  if (ec) {
    return Status::InvalidArgument(
        "tls_cert_file '" + o.tls_cert_file +
        "' holds no usable PEM certificate: " + ec.message());
  }
  context->use_private_key_file(o.tls_key_file, ssl::context::pem, ec);
  if (ec && ec.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) ==
          X509_R_KEY_VALUES_MISMATCH) {
    return Status::InvalidArgument(
        "tls_key_file '" + o.tls_key_file +
        "' is not the private key of the certificate in tls_cert_file '" +
        o.tls_cert_file + "'");
  }
  if (ec) {
    return Status::InvalidArgument(
        "tls_key_file '" + o.tls_key_file +
        "' holds no usable PEM private key: " + ec.message());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return Status::InvalidArgument(
        "tls_key_file '" + o.tls_key_file +
        "' is not the private key of the certificate in tls_cert_file '" +
        o.tls_cert_file + "'");
  }
  if (!o.tls_ca_file.empty()) {
    context->load_verify_file(o.tls_ca_file, ec);
    if (ec) {
      return Status::InvalidArgument(
          "tls_ca_file '" + o.tls_ca_file +
          "' holds no usable PEM CA certificate: " + ec.message());
    }
    // Ask for a certificate and check it if one comes; a client without
    // one still connects (a password or trust source may let it in).
    context->set_verify_mode(ssl::verify_peer);
    if (STACK_OF(X509_NAME)* names =
            SSL_load_client_CA_file(o.tls_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(native, names);
    }
    // Resumed sessions must carry the same verification context.
    static const unsigned char kSessionContext[] = "causeway-pbc";
    SSL_CTX_set_session_id_context(native, kSessionContext,
                                   sizeof(kSessionContext) - 1);
  }
  *out = std::move(context);
  return Status::Ok();
}

}  // namespace causeway::node
