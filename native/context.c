/*
 * createContext(options): one SSL_CTX for a DTLS 1.2 server.
 * options: { ciphers: string, mtu: number, cookieRotateMs: number, psk?: (identity: Buffer) => Buffer|undefined,
 *            cert?: Buffer (PEM, chain allowed), key?: Buffer (PEM), ca?: Buffer (PEM), requireClientCert?: bool,
 *            rpk?: (spki: Buffer) => boolean, cookieSecret?: Buffer (16-1024 bytes, shared by a server farm) }
 * With rpk, clients may authenticate with a raw public key (RFC 7250, OpenSSL 3.2+) that rpk() trusts, and the
 * server presents the raw public key of `key` (a certificate is then optional).
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>
#include "dtls.h"

static void ctx_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  dtls_ctx_t *ctx = data;
  if (ctx->psk_lookup != NULL) napi_delete_reference(env, ctx->psk_lookup);
  if (ctx->rpk_lookup != NULL) napi_delete_reference(env, ctx->rpk_lookup);
  if (ctx->ssl_ctx != NULL) SSL_CTX_free(ctx->ssl_ctx);
  dtls_cookie_free(ctx);
  ctx->magic = 0;
  free(ctx);
}

dtls_ctx_t *dtls_get_ctx(napi_env env, napi_value v) {
  void *data = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  if (data == NULL || ((dtls_ctx_t *)data)->magic != DTLS_CTX_MAGIC) return NULL;
  return data;
}

/* Reads a Buffer property; returns 0 when absent, -1 when present but not a Buffer. */
static int get_buffer(napi_env env, napi_value obj, const char *name, void **data, size_t *len) {
  bool has = false, is_buf = false;
  napi_value v;
  napi_valuetype t;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  napi_get_named_property(env, obj, name, &v);
  napi_typeof(env, v, &t);
  if (t == napi_undefined || t == napi_null) return 0;
  if (napi_is_buffer(env, v, &is_buf) != napi_ok || !is_buf) return -1;
  napi_get_buffer_info(env, v, data, len);
  return 1;
}

static double get_number(napi_env env, napi_value obj, const char *name, double dflt) {
  napi_value v;
  double d;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return dflt;
  if (napi_get_value_double(env, v, &d) != napi_ok) return dflt;
  return d;
}

static int load_cert_chain(SSL_CTX *c, const void *pem, size_t len) {
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  if (bio == NULL) return 0;
  X509 *leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
  int ok = leaf != NULL && SSL_CTX_use_certificate(c, leaf) == 1;
  X509_free(leaf);
  while (ok) {
    X509 *extra = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (extra == NULL) break;
    if (SSL_CTX_add0_chain_cert(c, extra) != 1) {
      X509_free(extra);
      ok = 0;
    }
  }
  ERR_clear_error(); /* end of PEM data */
  BIO_free(bio);
  return ok;
}

/* With a certificate the key must match it; without one (raw public keys only) the key stands alone. */
static int load_key(SSL_CTX *c, const void *pem, size_t len, int have_cert) {
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  if (bio == NULL) return 0;
  EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
  int ok = key != NULL && SSL_CTX_use_PrivateKey(c, key) == 1 && (!have_cert || SSL_CTX_check_private_key(c) == 1);
  EVP_PKEY_free(key);
  BIO_free(bio);
  return ok;
}

static int load_ca(SSL_CTX *c, const void *pem, size_t len) {
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  X509_STORE *store = SSL_CTX_get_cert_store(c);
  int count = 0;
  if (bio == NULL) return 0;
  for (;;) {
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (x == NULL) break;
    if (X509_STORE_add_cert(store, x) == 1) count++;
    X509_free(x);
  }
  ERR_clear_error();
  BIO_free(bio);
  return count > 0;
}

napi_value dtls_create_context(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], fn, ext;
  napi_valuetype t;
  char err[300];
  void *data;
  size_t len;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_object)
    return dtls_throw(env, "DTLS_ARGUMENT", "createContext needs an options object");
  napi_value opts = argv[0];

  ERR_clear_error();
  dtls_ctx_t *ctx = calloc(1, sizeof(*ctx));
  if (ctx == NULL) return dtls_throw(env, "DTLS_CONTEXT", "out of memory");
  ctx->magic = DTLS_CTX_MAGIC;
  ctx->env = env;
  ctx->mtu = (long)get_number(env, opts, "mtu", 1200);
  ctx->rotate_ms = (uint64_t)get_number(env, opts, "cookieRotateMs", 60000);
  if (!dtls_bio_init_method() || !dtls_cookie_init(ctx)) {
    free(ctx);
    return dtls_throw(env, "DTLS_CONTEXT", "cannot initialise the datagram BIO or the cookie secret");
  }
  SSL_CTX *c = SSL_CTX_new(DTLS_server_method());
  ctx->ssl_ctx = c;
  /* From here on the finalizer frees whatever was built. */
  if (c == NULL || napi_create_external(env, ctx, ctx_finalize, NULL, &ext) != napi_ok) {
    if (c != NULL) SSL_CTX_free(c);
    free(ctx);
    return dtls_throw(env, "DTLS_CONTEXT", "SSL_CTX_new failed");
  }
  int r = get_buffer(env, opts, "cookieSecret", &data, &len);
  if (r < 0 || (r > 0 && (len < DTLS_SHARED_SECRET_MIN || len > DTLS_SHARED_SECRET_MAX)))
    return dtls_throw(env, "DTLS_ARGUMENT", "options.cookieSecret must be a Buffer of %d to %d bytes", DTLS_SHARED_SECRET_MIN,
                      DTLS_SHARED_SECRET_MAX);
  if (r > 0 && !dtls_cookie_set_shared(ctx, data, len)) return dtls_throw(env, "DTLS_CONTEXT", "out of memory");
  SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION);
  SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_QUERY_MTU |
                             SSL_OP_COOKIE_EXCHANGE | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_read_ahead(c, 1);
  SSL_CTX_set_session_id_context(c, (const unsigned char *)"lwm2m-bs", 8);
  /* No resumption: a bootstrap is one handshake per device, and a server-side cache would hold every
   * session (up to 20480 by default) in memory for five minutes. */
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_cookie_generate_cb(c, dtls_cookie_generate);
  SSL_CTX_set_cookie_verify_cb(c, dtls_cookie_verify);
  SSL_CTX_set_info_callback(c, dtls_info_callback);
  SSL_CTX_set_msg_callback(c, dtls_msg_callback);

  napi_value v;
  char ciphers[1024];
  size_t clen = 0;
  if (napi_get_named_property(env, opts, "ciphers", &v) != napi_ok ||
      napi_get_value_string_utf8(env, v, ciphers, sizeof(ciphers), &clen) != napi_ok || clen == 0)
    return dtls_throw(env, "DTLS_ARGUMENT", "options.ciphers must be a non-empty string");
  if (SSL_CTX_set_cipher_list(c, ciphers) != 1) {
    dtls_openssl_error(err, sizeof(err), "no usable cipher in the list");
    return dtls_throw(env, "DTLS_CIPHERS", "%s", err);
  }
  double level = get_number(env, opts, "securityLevel", -1);
  if (level >= 0) SSL_CTX_set_security_level(c, (int)level);

  bool has_psk = false;
  napi_has_named_property(env, opts, "psk", &has_psk);
  if (has_psk && napi_get_named_property(env, opts, "psk", &fn) == napi_ok &&
      napi_typeof(env, fn, &t) == napi_ok && t == napi_function) {
    napi_create_reference(env, fn, 1, &ctx->psk_lookup);
    SSL_CTX_set_psk_server_callback(c, dtls_psk_server_callback);
  }

  napi_value rpk_fn = NULL;
  bool has_rpk = false;
  napi_has_named_property(env, opts, "rpk", &has_rpk);
  if (has_rpk && napi_get_named_property(env, opts, "rpk", &rpk_fn) == napi_ok &&
      (napi_typeof(env, rpk_fn, &t) != napi_ok || t != napi_function))
    rpk_fn = NULL;

  r = get_buffer(env, opts, "cert", &data, &len);
  int have_cert = r > 0;
  if (r < 0) return dtls_throw(env, "DTLS_ARGUMENT", "options.cert must be a Buffer holding PEM");
  if (r > 0 && !load_cert_chain(c, data, len)) {
    dtls_openssl_error(err, sizeof(err), "cannot load the server certificate");
    return dtls_throw(env, "DTLS_CERT", "%s", err);
  }
  r = get_buffer(env, opts, "key", &data, &len);
  if (r < 0) return dtls_throw(env, "DTLS_ARGUMENT", "options.key must be a Buffer holding PEM");
  if (r > 0 && !have_cert && rpk_fn == NULL)
    return dtls_throw(env, "DTLS_ARGUMENT", "options.key without options.cert needs raw public keys (options.rpk)");
  if (r > 0 && !load_key(c, data, len, have_cert)) {
    dtls_openssl_error(err, sizeof(err), "cannot load the private key (or it does not match the certificate)");
    return dtls_throw(env, "DTLS_KEY", "%s", err);
  }
  r = get_buffer(env, opts, "ca", &data, &len);
  if (r < 0) return dtls_throw(env, "DTLS_ARGUMENT", "options.ca must be a Buffer holding PEM");
  int have_ca = r > 0;
  bool require = true;
  napi_value req;
  if (napi_get_named_property(env, opts, "requireClientCert", &req) == napi_ok) {
    bool b;
    if (napi_get_value_bool(env, req, &b) == napi_ok) require = b;
  }
  if (r > 0) {
    if (!load_ca(c, data, len)) {
      dtls_openssl_error(err, sizeof(err), "no CA certificate could be read");
      return dtls_throw(env, "DTLS_CA", "%s", err);
    }
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | (require ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
  }
  if (rpk_fn != NULL) {
    if (!dtls_rpk_configure(c, have_cert, have_ca, require, err, sizeof(err))) return dtls_throw(env, "DTLS_RPK", "%s", err);
    napi_create_reference(env, rpk_fn, 1, &ctx->rpk_lookup);
  }
  ERR_clear_error();
  return ext;
}

napi_value dtls_rotate_cookie_secret(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  dtls_ctx_t *ctx = argc > 0 ? dtls_get_ctx(env, argv[0]) : NULL;
  if (ctx == NULL) return dtls_throw(env, "DTLS_ARGUMENT", "rotateCookieSecret needs a context");
  if (!dtls_cookie_rotate(ctx)) return dtls_throw(env, "DTLS_CONTEXT", "RAND_bytes failed");
  return NULL;
}
