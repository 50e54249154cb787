/*
 * Stateless cookie exchange (RFC 6347 4.2.1): cookie = HMAC-SHA256(secret, peer address key). Compared in
 * constant time. The secret changes every period; a cookie made with the previous period's secret is still
 * accepted, so a change between HelloVerifyRequest and the second ClientHello does not fail a handshake.
 *
 * Two ways to get the secret:
 * - Own (default): random per context, replaced lazily once a period has passed.
 * - Shared (options.cookieSecret): RFC 6347 4.2.1 lets a server farm share the cookie secret, so that a
 *   ClientHello retransmitted to another instance still completes. Every instance derives each period's secret
 *   as HMAC-SHA256(shared, label || period) with period = floor(wall-clock ms / rotation ms), so instances agree
 *   without talking. The secrets of the previous and the next period are accepted too: a cookie stays valid
 *   for at most three periods, and instances whose clocks differ by up to one period still agree.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include "dtls.h"

static const char LABEL[] = "lwm2m-bootstrap DTLS cookie secret";

uint64_t dtls_now_ms(void) {
  return uv_hrtime() / 1000000u; /* monotonic, from the libuv inside Node (portable) */
}

/* Wall clock: the one clock that separate instances share. */
static uint64_t wall_ms(void) {
  uv_timeval64_t tv;
  if (uv_gettimeofday(&tv) != 0) return 0;
  return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

int dtls_cookie_init(dtls_ctx_t *ctx) {
  ctx->has_prev_secret = 0;
  ctx->secret_born_ms = dtls_now_ms();
  return RAND_bytes(ctx->secret, DTLS_COOKIE_SECRET_LEN) == 1;
}

static void derive(const dtls_ctx_t *ctx, uint64_t period, unsigned char *out) {
  unsigned char msg[sizeof(LABEL) + 8];
  unsigned int len = 0;
  memcpy(msg, LABEL, sizeof(LABEL)); /* with its NUL: the label ends before the period */
  for (int i = 0; i < 8; i++) msg[sizeof(LABEL) + i] = (unsigned char)(period >> (56 - 8 * i));
  if (HMAC(EVP_sha256(), ctx->shared, (int)ctx->shared_len, msg, sizeof(msg), out, &len) == NULL)
    RAND_bytes(out, DTLS_COOKIE_SECRET_LEN); /* no HMAC: an unguessable secret that no cookie matches */
}

static void shared_refresh(dtls_ctx_t *ctx) {
  uint64_t period = ctx->rotate_ms ? wall_ms() / ctx->rotate_ms : 0;
  if (ctx->shared_ready && period == ctx->shared_period) return;
  derive(ctx, period, ctx->secret);
  derive(ctx, period - 1, ctx->prev_secret);
  derive(ctx, period + 1, ctx->next_secret);
  ctx->has_prev_secret = 1;
  ctx->shared_period = period;
  ctx->shared_ready = 1;
}

int dtls_cookie_set_shared(dtls_ctx_t *ctx, const void *secret, size_t len) {
  if (len < DTLS_SHARED_SECRET_MIN || len > DTLS_SHARED_SECRET_MAX) return 0;
  unsigned char *copy = malloc(len);
  if (copy == NULL) return 0;
  memcpy(copy, secret, len);
  dtls_cookie_free(ctx);
  ctx->shared = copy;
  ctx->shared_len = len;
  ctx->shared_ready = 0;
  shared_refresh(ctx);
  return 1;
}

void dtls_cookie_free(dtls_ctx_t *ctx) {
  if (ctx->shared != NULL) {
    OPENSSL_cleanse(ctx->shared, ctx->shared_len);
    free(ctx->shared);
  }
  ctx->shared = NULL;
  ctx->shared_len = 0;
  OPENSSL_cleanse(ctx->secret, sizeof(ctx->secret));
  OPENSSL_cleanse(ctx->prev_secret, sizeof(ctx->prev_secret));
  OPENSSL_cleanse(ctx->next_secret, sizeof(ctx->next_secret));
}

/* A new random secret now (own secret only: a shared one follows the clock, so this changes nothing). */
int dtls_cookie_rotate(dtls_ctx_t *ctx) {
  unsigned char fresh[DTLS_COOKIE_SECRET_LEN];
  if (ctx->shared != NULL) return 1;
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
  if (ctx->shared != NULL) {
    shared_refresh(ctx);
    return;
  }
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

static int matches(const unsigned char *secret, const dtls_peer_t *peer, const unsigned char *cookie, unsigned int cookie_len) {
  unsigned char expected[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  return mac(secret, peer, expected, &len) && len == cookie_len && CRYPTO_memcmp(expected, cookie, len) == 0;
}

int dtls_cookie_generate(SSL *ssl, unsigned char *cookie, unsigned int *cookie_len) {
  dtls_peer_t *peer = SSL_get_app_data(ssl);
  if (peer == NULL || peer->ctx == NULL) return 0;
  maybe_rotate(peer->ctx);
  return mac(peer->ctx->secret, peer, cookie, cookie_len); /* 32 bytes <= DTLS1_COOKIE_LENGTH */
}

int dtls_cookie_verify(SSL *ssl, const unsigned char *cookie, unsigned int cookie_len) {
  dtls_peer_t *peer = SSL_get_app_data(ssl);
  if (peer == NULL || peer->ctx == NULL) return 0;
  dtls_ctx_t *ctx = peer->ctx;
  maybe_rotate(ctx);
  if (matches(ctx->secret, peer, cookie, cookie_len)) return 1;
  if (ctx->has_prev_secret && matches(ctx->prev_secret, peer, cookie, cookie_len)) return 1;
  return ctx->shared != NULL && matches(ctx->next_secret, peer, cookie, cookie_len);
}
