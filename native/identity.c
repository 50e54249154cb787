/*
 * Who the peer is: the PSK identity (exact bytes, captured from the ClientKeyExchange because OpenSSL's
 * DTLS 1.2 PSK callback only sees a C string), the client certificate's names, and the alerts exchanged.
 */
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include "dtls.h"

#define DTLS_HM_HEADER 12

/*
 * Called by OpenSSL for each received handshake message before it is processed. For a PSK key exchange
 * the ClientKeyExchange body starts with psk_identity<0..2^16-1>: keep those exact bytes.
 */
void dtls_msg_callback(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
                       void *arg) {
  (void)version;
  (void)arg;
  if (write_p || content_type != SSL3_RT_HANDSHAKE || len < DTLS_HM_HEADER + 2) return;
  const unsigned char *p = buf;
  if (p[0] != SSL3_MT_CLIENT_KEY_EXCHANGE) return;
  dtls_peer_t *peer = SSL_get_app_data(ssl);
  const SSL_CIPHER *cipher = SSL_get_pending_cipher(ssl);
  if (peer == NULL || cipher == NULL || SSL_CIPHER_get_auth_nid(cipher) != NID_auth_psk) return;
  size_t id_len = ((size_t)p[DTLS_HM_HEADER] << 8) | p[DTLS_HM_HEADER + 1];
  if (id_len > DTLS_MAX_IDENTITY_LEN || DTLS_HM_HEADER + 2 + id_len > len) return;
  memcpy(peer->psk_id, p + DTLS_HM_HEADER + 2, id_len);
  peer->psk_id_len = (int)id_len;
}

void dtls_info_callback(const SSL *ssl, int where, int ret) {
  if (!(where & SSL_CB_ALERT)) return;
  dtls_peer_t *peer = SSL_get_app_data(ssl);
  if (peer == NULL) return;
  char *dst = (where & SSL_CB_READ) ? peer->alert_received : peer->alert_sent;
  snprintf(dst, sizeof(peer->alert_sent), "%s", SSL_alert_desc_string_long(ret));
}

/* Returns the key length, or 0 (OpenSSL then sends unknown_psk_identity). */
unsigned int dtls_psk_server_callback(SSL *ssl, const char *identity, unsigned char *psk,
                                      unsigned int max_psk_len) {
  dtls_peer_t *peer = SSL_get_app_data(ssl);
  if (peer == NULL || peer->ctx == NULL || peer->ctx->psk_lookup == NULL) return 0;
  if (peer->psk_id_len < 0) {
    /* Not captured (should not happen): the C string is all we have. */
    size_t n = strlen(identity);
    if (n > DTLS_MAX_IDENTITY_LEN) return 0;
    memcpy(peer->psk_id, identity, n);
    peer->psk_id_len = (int)n;
  }
  if (memchr(peer->psk_id, 0, (size_t)peer->psk_id_len) != NULL) {
    snprintf(peer->reason, sizeof(peer->reason),
             "PSK identity of %d bytes contains a zero byte; refused (OpenSSL would match only the prefix)",
             peer->psk_id_len);
    return 0;
  }
  napi_env env = peer->ctx->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return 0;
  unsigned int result = 0;
  napi_value fn, global, arg, ret;
  bool is_buffer = false;
  if (napi_get_reference_value(env, peer->ctx->psk_lookup, &fn) == napi_ok &&
      napi_get_global(env, &global) == napi_ok &&
      napi_create_buffer_copy(env, (size_t)peer->psk_id_len, peer->psk_id, NULL, &arg) == napi_ok) {
    napi_status st = napi_call_function(env, global, fn, 1, &arg, &ret);
    if (st != napi_ok) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      snprintf(peer->reason, sizeof(peer->reason), "PSK store lookup threw");
    } else if (napi_is_buffer(env, ret, &is_buffer) == napi_ok && is_buffer) {
      void *key;
      size_t key_len;
      napi_get_buffer_info(env, ret, &key, &key_len);
      if (key_len == 0 || key_len > max_psk_len) {
        snprintf(peer->reason, sizeof(peer->reason), "PSK key length %zu not in 1..%u", key_len, max_psk_len);
      } else {
        memcpy(psk, key, key_len);
        result = (unsigned int)key_len;
      }
    } else {
      snprintf(peer->reason, sizeof(peer->reason), "unknown PSK identity");
    }
  }
  napi_close_handle_scope(env, scope);
  return result;
}

static napi_value common_name(napi_env env, X509_NAME *name) {
  napi_value v = NULL;
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return NULL;
  ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char *out = NULL;
  int n = ASN1_STRING_to_UTF8(&out, data);
  if (n >= 0) {
    napi_create_string_utf8(env, (const char *)out, (size_t)n, &v);
    OPENSSL_free(out);
  }
  return v;
}

/* { subject, cn?, san: string[] } for a certificate. */
napi_value dtls_cert_info(napi_env env, X509 *cert) {
  napi_value obj, san;
  napi_create_object(env, &obj);
  X509_NAME *subject = X509_get_subject_name(cert);
  BIO *mem = BIO_new(BIO_s_mem());
  if (mem != NULL) {
    X509_NAME_print_ex(mem, subject, 0, XN_FLAG_RFC2253);
    char *text = NULL;
    long n = BIO_get_mem_data(mem, &text);
    napi_value s;
    napi_create_string_utf8(env, text ? text : "", (size_t)(n > 0 ? n : 0), &s);
    napi_set_named_property(env, obj, "subject", s);
    BIO_free(mem);
  }
  napi_value cn = common_name(env, subject);
  if (cn != NULL) napi_set_named_property(env, obj, "cn", cn);
  napi_create_array(env, &san);
  GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
  uint32_t k = 0;
  for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
    GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
    if (g->type != GEN_DNS && g->type != GEN_URI) continue;
    ASN1_IA5STRING *s = g->type == GEN_DNS ? g->d.dNSName : g->d.uniformResourceIdentifier;
    napi_value v;
    napi_create_string_utf8(env, (const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), &v);
    napi_set_element(env, san, k++, v);
  }
  if (names != NULL) GENERAL_NAMES_free(names);
  napi_set_named_property(env, obj, "san", san);
  return obj;
}
