/*
 * Raw public keys (RFC 7250) on OpenSSL 3.2 and newer.
 *
 * The addon is built against whatever OpenSSL headers the building Node ships (3.0 in Node 20), and one
 * prebuilt binary loads into every Node. The five OpenSSL 3.2 functions below are therefore weak references:
 * the dynamic linker resolves them from the node binary when its OpenSSL has them (Node 22 ships 3.5) and
 * leaves them NULL otherwise, so the addon still loads on Node 20 and simply reports RPK as unavailable.
 * Where weak references do not exist (not ELF), RPK is compiled in only when the headers are 3.2 or newer.
 *
 * Trust: the client's raw public key reaches the certificate verify callback; it is handed to JavaScript as
 * SubjectPublicKeyInfo DER, and the handshake goes on only when the key store knows it.
 */
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include "dtls.h"

#ifndef TLSEXT_cert_type_x509
#define TLSEXT_cert_type_x509 0
#endif
#ifndef TLSEXT_cert_type_rpk
#define TLSEXT_cert_type_rpk 2
#endif

#if OPENSSL_VERSION_NUMBER < 0x30200000L
#if defined(__ELF__)
int SSL_CTX_set1_server_cert_type(SSL_CTX *ctx, const unsigned char *val, size_t len) __attribute__((weak));
int SSL_CTX_set1_client_cert_type(SSL_CTX *ctx, const unsigned char *val, size_t len) __attribute__((weak));
int SSL_get_negotiated_client_cert_type(const SSL *s) __attribute__((weak));
EVP_PKEY *SSL_get0_peer_rpk(const SSL *s) __attribute__((weak));
EVP_PKEY *X509_STORE_CTX_get0_rpk(const X509_STORE_CTX *ctx) __attribute__((weak));
#define RPK_LINKED                                                                                             \
  (SSL_CTX_set1_server_cert_type != NULL && SSL_CTX_set1_client_cert_type != NULL &&                          \
   SSL_get_negotiated_client_cert_type != NULL && SSL_get0_peer_rpk != NULL && X509_STORE_CTX_get0_rpk != NULL)
#else
#define RPK_UNAVAILABLE_AT_BUILD 1
#endif
#else
#define RPK_LINKED 1
#endif

int dtls_rpk_available(void) {
#ifdef RPK_UNAVAILABLE_AT_BUILD
  return 0;
#else
  return RPK_LINKED ? 1 : 0;
#endif
}

#ifndef RPK_UNAVAILABLE_AT_BUILD
/* SubjectPublicKeyInfo DER of a key into buf; returns its length or -1. */
static int spki_der(EVP_PKEY *key, unsigned char *buf, size_t cap) {
  int n = i2d_PUBKEY(key, NULL);
  if (n <= 0 || (size_t)n > cap) return -1;
  unsigned char *p = buf;
  return i2d_PUBKEY(key, &p);
}

/* Asks the JavaScript key store whether it trusts this SubjectPublicKeyInfo. */
static int rpk_trusted(dtls_peer_t *peer, const unsigned char *der, size_t len) {
  napi_env env = peer->ctx->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return 0;
  int ok = 0;
  napi_value fn, global, arg, ret;
  if (napi_get_reference_value(env, peer->ctx->rpk_lookup, &fn) == napi_ok && napi_get_global(env, &global) == napi_ok &&
      napi_create_buffer_copy(env, len, der, NULL, &arg) == napi_ok) {
    if (napi_call_function(env, global, fn, 1, &arg, &ret) != napi_ok) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      snprintf(peer->reason, sizeof(peer->reason), "raw public key store lookup threw");
    } else {
      bool b = false;
      if (napi_get_value_bool(env, ret, &b) == napi_ok && b) ok = 1;
      else snprintf(peer->reason, sizeof(peer->reason), "raw public key not trusted");
    }
  }
  napi_close_handle_scope(env, scope);
  return ok;
}

/* Certificate verify callback: decides raw public keys, leaves X.509 chains to OpenSSL's verdict. */
static int rpk_verify_callback(int preverify_ok, X509_STORE_CTX *store) {
  EVP_PKEY *rpk = X509_STORE_CTX_get0_rpk(store);
  if (rpk == NULL) return preverify_ok;
  SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  dtls_peer_t *peer = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
  if (peer == NULL || peer->ctx == NULL || peer->ctx->rpk_lookup == NULL) return 0;
  unsigned char der[DTLS_MAX_SPKI_LEN];
  int n = spki_der(rpk, der, sizeof(der));
  if (n <= 0) {
    snprintf(peer->reason, sizeof(peer->reason), "raw public key cannot be encoded (or is over %d bytes)", DTLS_MAX_SPKI_LEN);
    return 0;
  }
  if (!rpk_trusted(peer, der, (size_t)n)) return 0;
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}
#endif

int dtls_rpk_configure(SSL_CTX *c, int have_cert, int accept_x509_clients, int require, char *err, size_t err_len) {
#ifdef RPK_UNAVAILABLE_AT_BUILD
  (void)c; (void)have_cert; (void)accept_x509_clients; (void)require;
  snprintf(err, err_len, "this addon was built without raw public key support (OpenSSL headers older than 3.2)");
  return 0;
#else
  if (!dtls_rpk_available()) {
    snprintf(err, err_len, "raw public keys need OpenSSL 3.2 or newer; this OpenSSL lacks SSL_CTX_set1_client_cert_type");
    return 0;
  }
  /* What we present: our raw public key first, a certificate when we have one. */
  const unsigned char server_types[2] = {TLSEXT_cert_type_rpk, TLSEXT_cert_type_x509};
  /* What we accept from clients: raw public keys, and certificates when a CA is configured. */
  const unsigned char client_types[2] = {TLSEXT_cert_type_rpk, TLSEXT_cert_type_x509};
  if (SSL_CTX_set1_server_cert_type(c, server_types, have_cert ? 2 : 1) != 1 ||
      SSL_CTX_set1_client_cert_type(c, client_types, accept_x509_clients ? 2 : 1) != 1) {
    dtls_openssl_error(err, err_len, "cannot enable raw public keys");
    return 0;
  }
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER | (require ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), rpk_verify_callback);
  return 1;
#endif
}

/* The peer's raw public key as SubjectPublicKeyInfo DER, when one was negotiated; else NULL. */
napi_value dtls_peer_rpk(napi_env env, SSL *ssl) {
#ifdef RPK_UNAVAILABLE_AT_BUILD
  (void)env; (void)ssl;
  return NULL;
#else
  if (!dtls_rpk_available() || SSL_get_negotiated_client_cert_type(ssl) != TLSEXT_cert_type_rpk) return NULL;
  EVP_PKEY *rpk = SSL_get0_peer_rpk(ssl);
  unsigned char der[DTLS_MAX_SPKI_LEN];
  int n = rpk != NULL ? spki_der(rpk, der, sizeof(der)) : -1;
  if (n <= 0) return NULL;
  napi_value v;
  if (napi_create_buffer_copy(env, (size_t)n, der, NULL, &v) != napi_ok) return NULL;
  return v;
#endif
}
