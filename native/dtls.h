/*
 * DTLS 1.2 server on the OpenSSL inside Node: shared types.
 *
 * JavaScript owns the UDP socket and the peer map; this addon only does what OpenSSL must do.
 * One SSL object per verified peer sits on a custom BIO that maps one BIO write to one datagram
 * (collected in an out-queue handed back to JavaScript) and reads the one datagram being fed.
 */
#ifndef LWM2M_DTLS_H
#define LWM2M_DTLS_H

#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#define DTLS_COOKIE_SECRET_LEN 32
#define DTLS_SHARED_SECRET_MIN 16
#define DTLS_SHARED_SECRET_MAX 1024
#define DTLS_MAX_IDENTITY_LEN 256 /* PSK_MAX_IDENTITY_LEN in OpenSSL 3.0 */
#define DTLS_REASON_LEN 256
#define DTLS_MAX_SPKI_LEN 1024 /* SubjectPublicKeyInfo DER of a raw public key (P-256: 91 bytes) */

typedef struct {
  unsigned char *data;
  size_t len;
} dtls_datagram_t;

typedef struct {
  dtls_datagram_t *items;
  size_t count;
  size_t cap;
} dtls_outq_t;

#define DTLS_CTX_MAGIC 0x4c77634bu
#define DTLS_PEER_MAGIC 0x4c776350u

typedef struct dtls_ctx {
  uint32_t magic;
  SSL_CTX *ssl_ctx;
  napi_env env;
  napi_ref psk_lookup; /* JS function (identity: Buffer) => Buffer | undefined, or NULL */
  napi_ref rpk_lookup; /* JS function (spki: Buffer) => boolean, or NULL (raw public keys off) */
  unsigned char secret[DTLS_COOKIE_SECRET_LEN];
  unsigned char prev_secret[DTLS_COOKIE_SECRET_LEN];
  unsigned char next_secret[DTLS_COOKIE_SECRET_LEN]; /* shared secret only: the period after the current one */
  int has_prev_secret;
  unsigned char *shared;  /* operator-given secret that every instance holds (options.cookieSecret), or NULL */
  size_t shared_len;
  uint64_t shared_period; /* the period secret/prev_secret/next_secret were derived for */
  int shared_ready;
  uint64_t secret_born_ms;
  uint64_t rotate_ms;
  long mtu;
  int freed;
} dtls_ctx_t;

typedef struct dtls_peer {
  uint32_t magic;
  SSL *ssl;
  dtls_ctx_t *ctx;
  napi_ref ctx_ref; /* keeps the context's JS external alive while the peer lives */
  const unsigned char *in; /* datagram being fed, consumed by one BIO read */
  size_t in_len;
  dtls_outq_t out;
  unsigned char addr[128]; /* peer address key (cookie input) */
  size_t addr_len;
  unsigned char psk_id[DTLS_MAX_IDENTITY_LEN];
  int psk_id_len; /* -1: not seen */
  int connected;
  int freed;
  int busy;            /* inside an OpenSSL call (a JS callback may run then) */
  int release_pending; /* free/shutdown asked while busy: release when the call returns */
  char reason[DTLS_REASON_LEN]; /* why the handshake failed, set by our callbacks */
  char alert_sent[64];
  char alert_received[64];
} dtls_peer_t;

/*
 * The io area (lib/dtls/binding.ts IoArea): an ArrayBuffer JavaScript hands the addon once (setIo). A call whose
 * result fits writes it there and returns undefined (listen with a new peer: the peer's external) instead of an
 * array of fresh Buffers and strings; JavaScript copies it out before it runs anything else. Int32 words:
 *   [0] flags (1 connected now, 2 closed)  [1] timeout ms (-1: none)  [2] datagrams out  [3] data records
 *   [4] error, [5] alert sent, [6] alert received: byte length of each text (0: none)  [7] 0
 *   [8 .. 8+DTLS_IO_ITEMS) byte length of each item, out first, then data
 * then from DTLS_IO_HEADER the items' bytes, then the three texts (UTF-8). setIo takes DTLS_IO_LAYOUT too and
 * refuses another, so an adapter never misreads an addon built for another layout.
 */
#define DTLS_IO_LAYOUT 2
#define DTLS_IO_WORDS 8
#define DTLS_IO_ITEMS 60
#define DTLS_IO_HEADER ((DTLS_IO_WORDS + DTLS_IO_ITEMS) * 4)

/* bio.c */
BIO *dtls_bio_new(dtls_peer_t *peer);
int dtls_bio_init_method(void);
void dtls_outq_push(dtls_outq_t *q, const void *data, size_t len);
void dtls_outq_clear(dtls_outq_t *q);

/* cookie.c */
int dtls_cookie_init(dtls_ctx_t *ctx);
int dtls_cookie_rotate(dtls_ctx_t *ctx);
int dtls_cookie_set_shared(dtls_ctx_t *ctx, const void *secret, size_t len);
void dtls_cookie_free(dtls_ctx_t *ctx);
int dtls_cookie_generate(SSL *ssl, unsigned char *cookie, unsigned int *cookie_len);
int dtls_cookie_verify(SSL *ssl, const unsigned char *cookie, unsigned int cookie_len);
uint64_t dtls_now_ms(void);

/* context.c */
napi_value dtls_create_context(napi_env env, napi_callback_info info);
napi_value dtls_rotate_cookie_secret(napi_env env, napi_callback_info info);
dtls_ctx_t *dtls_get_ctx(napi_env env, napi_value v);

/* identity.c */
void dtls_msg_callback(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
                       void *arg);
void dtls_info_callback(const SSL *ssl, int where, int ret);
unsigned int dtls_psk_server_callback(SSL *ssl, const char *identity, unsigned char *psk,
                                      unsigned int max_psk_len);
napi_value dtls_cert_info(napi_env env, X509 *cert);

/* rpk.c */
int dtls_rpk_available(void);
int dtls_rpk_configure(SSL_CTX *c, int have_cert, int accept_x509_clients, int require, char *err, size_t err_len);
napi_value dtls_peer_rpk(napi_env env, SSL *ssl);

/* peer.c */
napi_value dtls_listen(napi_env env, napi_callback_info info);
napi_value dtls_feed(napi_env env, napi_callback_info info);
napi_value dtls_write(napi_env env, napi_callback_info info);
napi_value dtls_handle_timeout(napi_env env, napi_callback_info info);
napi_value dtls_shutdown(napi_env env, napi_callback_info info);
napi_value dtls_free(napi_env env, napi_callback_info info);
napi_value dtls_peer_info(napi_env env, napi_callback_info info);
napi_value dtls_set_io(napi_env env, napi_callback_info info);

/* addon.c helpers */
napi_value dtls_throw(napi_env env, const char *code, const char *fmt, ...);
void dtls_openssl_error(char *buf, size_t len, const char *prefix);

#endif
