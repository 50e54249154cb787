/*
 * Stateless cookie exchange (RFC 6347 4.2.1): cookie = HMAC-SHA256(secret, peer address key). The secret
 * is random and rotates; a cookie made with the previous secret is still accepted, so a rotation between
 * HelloVerifyRequest and the second ClientHello does not fail a handshake. Compared in constant time.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>
#include <uv.h>
#include "dtls.h"

uint64_t dtls_now_ms(void) {
  return uv_hrtime() / 1000000u; /* monotonic, from the libuv inside Node (portable) */
}

int dtls_cookie_init(dtls_ctx_t *ctx) {
  ctx->has_prev_secret = 0;
  ctx->secret_born_ms = dtls_now_ms();
  return RAND_bytes(ctx->secret, DTLS_COOKIE_SECRET_LEN) == 1;
}

int dtls_cookie_rotate(dtls_ctx_t *ctx) {
  unsigned char fresh[DTLS_COOKIE_SECRET_LEN];
  if (RAND_bytes(fresh, DTLS_COOKIE_SECRET_LEN) != 1) return 0;
  memcpy(ctx->prev_secret, ctx->secret, DTLS_COOKIE_SECRET_LEN);
  memcpy(ctx->secret, fresh, DTLS_COOKIE_SECRET_LEN);
  OPENSSL_cleanse(fresh, sizeof(fresh));
  ctx->has_prev_secret = 1;
  ctx->secret_born_ms = dtls_now_ms();
  return 1;
}

/* Lazy rotation: after one period the secret becomes the previous one; after two, both are gone, so a
 * cookie is never accepted much beyond two periods, however quiet the server was. */
static void maybe_rotate(dtls_ctx_t *ctx) {
  if (ctx->rotate_ms == 0) return;
  uint64_t age = dtls_now_ms() - ctx->secret_born_ms;
  if (age < ctx->rotate_ms) return;
  dtls_cookie_rotate(ctx);
  if (age >= 2 * ctx->rotate_ms) {
    OPENSSL_cleanse(ctx->prev_secret, sizeof(ctx->prev_secret));
    ctx->has_prev_secret = 0;
  }
}

static int mac(const unsigned char *secret, const dtls_peer_t *peer, unsigned char *out, unsigned int *out_len) {
  return HMAC(EVP_sha256(), secret, DTLS_COOKIE_SECRET_LEN, peer->addr, peer->addr_len, out, out_len) != NULL;
}

int dtls_cookie_generate(SSL *ssl, unsigned char *cookie, unsigned int *cookie_len) {
  dtls_peer_t *peer = SSL_get_app_data(ssl);
  if (peer == NULL || peer->ctx == NULL) return 0;
  maybe_rotate(peer->ctx);
  return mac(peer->ctx->secret, peer, cookie, cookie_len); /* 32 bytes <= DTLS1_COOKIE_LENGTH */
}

int dtls_cookie_verify(SSL *ssl, const unsigned char *cookie, unsigned int cookie_len) {
  dtls_peer_t *peer = SSL_get_app_data(ssl);
  unsigned char expected[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (peer == NULL || peer->ctx == NULL) return 0;
  maybe_rotate(peer->ctx);
  if (mac(peer->ctx->secret, peer, expected, &len) && len == cookie_len &&
      CRYPTO_memcmp(expected, cookie, len) == 0)
    return 1;
  if (peer->ctx->has_prev_secret && mac(peer->ctx->prev_secret, peer, expected, &len) && len == cookie_len &&
      CRYPTO_memcmp(expected, cookie, len) == 0)
    return 1;
  return 0;
}
