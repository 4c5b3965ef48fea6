#pragma once
// The client port's TLS pieces (RpbStartTls): the server context built from
// the node's PEM settings, and what a finished handshake tells about the
// client. Included by pbc_server.cc only, so OpenSSL and Asio's SSL headers
// stay out of everything else.

#include <openssl/ssl.h>

#include <boost/asio/ssl.hpp>
#include <memory>
#include <string>

#include "base/status.h"
#include "node/pbc_server.h"

namespace causeway::node {

// The TLS context of the client port from the options' PEM files
// (tls_cert_file, tls_key_file, tls_ca_file): TLS 1.2 or later; with a CA
// file, client certificates are asked for and verified but not required.
// Null (and Ok) when no certificate is configured; InvalidArgument naming
// the setting and file that cannot be used.
Status MakeTlsContext(const PbcServerOptions& o,
                      std::unique_ptr<boost::asio::ssl::context>* out);

// The common name of the client's certificate if it presented one and it
// verified against the configured CAs; empty otherwise.
std::string VerifiedCommonName(SSL* ssl);

}  // namespace causeway::node
