/*
 * A datagram BIO over memory: a read hands OpenSSL the one datagram being fed (or "retry" when there is
 * none), a write becomes one outgoing datagram in the peer's out-queue. The MTU is set on the SSL object
 * (SSL_set_mtu with SSL_OP_NO_QUERY_MTU), so the MTU queries here only answer for completeness.
 */
#include <stdlib.h>
#include <string.h>
#include "dtls.h"

static BIO_METHOD *method = NULL;

void dtls_outq_push(dtls_outq_t *q, const void *data, size_t len) {
  if (q->count == q->cap) {
    size_t cap = q->cap ? q->cap * 2 : 8;
    dtls_datagram_t *items = realloc(q->items, cap * sizeof(*items));
    if (items == NULL) return; /* out of memory: the datagram is lost, DTLS retransmits */
    q->items = items;
    q->cap = cap;
  }
  unsigned char *copy = malloc(len ? len : 1);
  if (copy == NULL) return;
  memcpy(copy, data, len);
  q->items[q->count].data = copy;
  q->items[q->count].len = len;
  q->count++;
}

void dtls_outq_clear(dtls_outq_t *q) {
  for (size_t i = 0; i < q->count; i++) free(q->items[i].data);
  q->count = 0;
}

static int bio_write(BIO *bio, const char *data, int len) {
  dtls_peer_t *peer = BIO_get_data(bio);
  BIO_clear_retry_flags(bio);
  if (peer == NULL || len < 0) return -1;
  dtls_outq_push(&peer->out, data, (size_t)len);
  return len;
}

static int bio_read(BIO *bio, char *buf, int size) {
  dtls_peer_t *peer = BIO_get_data(bio);
  BIO_clear_retry_flags(bio);
  if (peer == NULL || peer->in == NULL) {
    BIO_set_retry_read(bio);
    return -1;
  }
  size_t n = peer->in_len < (size_t)size ? peer->in_len : (size_t)size;
  memcpy(buf, peer->in, n);
  peer->in = NULL;
  peer->in_len = 0;
  return (int)n;
}

static long bio_ctrl(BIO *bio, int cmd, long num, void *ptr) {
  dtls_peer_t *peer = BIO_get_data(bio);
  (void)num;
  (void)ptr;
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_PENDING:
      return (peer != NULL && peer->in != NULL) ? (long)peer->in_len : 0;
    case BIO_CTRL_WPENDING:
      return 0;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
      return peer != NULL && peer->ctx != NULL ? peer->ctx->mtu : 1200;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
      return 28; /* IPv4 + UDP headers; only used by OpenSSL's minimum-MTU arithmetic */
    case BIO_CTRL_DGRAM_MTU_EXCEEDED:
      return 0;
    default:
      return 0;
  }
}

static int bio_create(BIO *bio) {
  BIO_set_init(bio, 1);
  return 1;
}

static int bio_destroy(BIO *bio) {
  BIO_set_data(bio, NULL);
  return 1;
}

int dtls_bio_init_method(void) {
  if (method != NULL) return 1;
  method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "lwm2m datagram");
  if (method == NULL) return 0;
  BIO_meth_set_write(method, bio_write);
  BIO_meth_set_read(method, bio_read);
  BIO_meth_set_ctrl(method, bio_ctrl);
  BIO_meth_set_create(method, bio_create);
  BIO_meth_set_destroy(method, bio_destroy);
  return 1;
}

BIO *dtls_bio_new(dtls_peer_t *peer) {
  if (!dtls_bio_init_method()) return NULL;
  BIO *bio = BIO_new(method);
  if (bio != NULL) BIO_set_data(bio, peer);
  return bio;
}
