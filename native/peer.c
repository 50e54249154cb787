/*
 * One DTLS peer: listen (stateless cookie check, then an SSL object), feed one datagram, write
 * application data, retransmission timeout, close_notify, free.
 *
 * A call returns an array (lib/dtls/binding.ts turns it into a NativeResult):
 *   [out: Buffer[] | undefined, data: Buffer[] | undefined, flags: 1 connected now | 2 closed, timeout: number,
 *    error?: string, alertSent?: string, alertReceived?: string, peer?: external]
 * out = datagrams to send to the peer, data = decrypted application data, timeout = ms until handleTimeout must
 * be called (-1: no timer), closed = the peer sent close_notify (we answered it). Indexed elements instead of named
 * properties: a call per datagram paid more for naming an object's properties than for the DTLS record itself.
 * Once JavaScript has handed over an io area (setIo), a call writes those same fields into it (dtls.h) and
 * returns undefined, or listen's new peer alone: no array, no Buffer per datagram, no strings, which cost more
 * than encrypting or decrypting the record. Only a result too big for the area still comes as the array.
 */
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>
#ifdef _WIN32
#include <winsock2.h> /* struct timeval */
#else
#include <sys/time.h>
#endif
#include "dtls.h"

static unsigned char read_buf[16384 + 2048];

static napi_value finish(napi_env env, dtls_peer_t *peer, napi_value res);

static void peer_release(napi_env env, dtls_peer_t *peer) {
  if (peer->freed) return;
  if (peer->busy) { /* reentered from the PSK callback: never free an SSL object OpenSSL is using */
    peer->release_pending = 1;
    return;
  }
  peer->freed = 1;
  if (peer->ssl != NULL) SSL_free(peer->ssl); /* frees the BIO too */
  peer->ssl = NULL;
  dtls_outq_clear(&peer->out);
  free(peer->out.items);
  peer->out.items = NULL;
  peer->out.cap = 0;
  OPENSSL_cleanse(peer->psk_id, sizeof(peer->psk_id));
  if (peer->ctx_ref != NULL) napi_delete_reference(env, peer->ctx_ref);
  peer->ctx_ref = NULL;
}

static void peer_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  dtls_peer_t *peer = data;
  peer_release(env, peer);
  peer->magic = 0;
  free(peer);
}

static dtls_peer_t *get_peer(napi_env env, napi_value v) {
  void *data = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == NULL) return NULL;
  dtls_peer_t *peer = data;
  return peer->magic == DTLS_PEER_MAGIC ? peer : NULL;
}

/* Empties OpenSSL's error queue. ERR_clear_error wipes all 16 slots every time, and cost a tenth of a record's
 * feed or write; the queue is almost always empty already, which ERR_peek_error sees at once. */
static void clear_errors(void) {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

static void reset_call_state(dtls_peer_t *peer) {
  clear_errors();
  peer->reason[0] = 0;
  peer->alert_sent[0] = 0;
  peer->alert_received[0] = 0;
}

static void describe_failure(dtls_peer_t *peer, int ssl_error, char *err, size_t len) {
  if (peer->reason[0]) {
    snprintf(err, len, "%s", peer->reason);
  } else if (ERR_peek_error() != 0) {
    dtls_openssl_error(err, len, "handshake failed");
  } else if (ssl_error == SSL_ERROR_SYSCALL) {
    snprintf(err, len, "DTLS protocol error (peer went away)");
  } else {
    snprintf(err, len, "DTLS error %d", ssl_error);
  }
  ERR_clear_error();
}

/* Drive the handshake, then read all application data; -1 on a fatal error (err set). */
static int step(dtls_peer_t *peer, dtls_outq_t *data, int *closed, char *err, size_t errlen) {
  SSL *ssl = peer->ssl;
  if (!SSL_is_init_finished(ssl)) {
    int r = SSL_do_handshake(ssl);
    if (r != 1) {
      int e = SSL_get_error(ssl, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
      describe_failure(peer, e, err, errlen);
      return -1;
    }
    peer->connected = 1;
  }
  for (;;) {
    int n = SSL_read(ssl, read_buf, sizeof(read_buf));
    if (n > 0) {
      dtls_outq_push(data, read_buf, (size_t)n);
      continue;
    }
    int e = SSL_get_error(ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
    if (e == SSL_ERROR_ZERO_RETURN) {
      *closed = 1;
      SSL_shutdown(ssl); /* answer close_notify */
      return 0;
    }
    describe_failure(peer, e, err, errlen);
    return -1;
  }
}

/* The queued datagrams as Buffers, or undefined when there are none (the common case for data). */
static napi_value buffers(napi_env env, dtls_outq_t *q) {
  napi_value arr, b;
  if (q->count == 0) {
    napi_get_undefined(env, &arr);
    return arr;
  }
  napi_create_array_with_length(env, q->count, &arr);
  for (size_t i = 0; i < q->count; i++) {
    napi_create_buffer_copy(env, q->items[i].len, q->items[i].data, NULL, &b);
    napi_set_element(env, arr, (uint32_t)i, b);
  }
  dtls_outq_clear(q);
  return arr;
}

enum { RES_OUT, RES_DATA, RES_FLAGS, RES_TIMEOUT, RES_ERROR, RES_ALERT_SENT, RES_ALERT_RECEIVED, RES_PEER };
#define RES_CONNECTED 1
#define RES_CLOSED 2

static void set_str(napi_env env, napi_value arr, uint32_t index, const char *s) {
  napi_value v;
  if (s == NULL || !s[0]) return;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  napi_set_element(env, arr, index, v);
}

static void set_named_str(napi_env env, napi_value obj, const char *name, const char *s) {
  napi_value v;
  if (s == NULL || !s[0]) return;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, name, v);
}

static napi_value result_array(napi_env env, napi_value out, napi_value data, int flags, double timeout) {
  napi_value arr, v;
  napi_create_array_with_length(env, 4, &arr);
  napi_set_element(env, arr, RES_OUT, out);
  napi_set_element(env, arr, RES_DATA, data);
  napi_create_int32(env, flags, &v);
  napi_set_element(env, arr, RES_FLAGS, v);
  napi_create_double(env, timeout, &v);
  napi_set_element(env, arr, RES_TIMEOUT, v);
  return arr;
}

/* The io area JavaScript handed over (setIo), per N-API environment (each worker thread has its own). */
typedef struct {
  napi_ref io;
} dtls_instance_t;

static void instance_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  dtls_instance_t *inst = data;
  if (inst->io != NULL) napi_delete_reference(env, inst->io);
  free(inst);
}

/* setIo(area: ArrayBuffer, layout: number): the io area (dtls.h) for the calls that follow. */
napi_value dtls_set_io(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool is_ab = false;
  void *data = NULL;
  size_t len = 0;
  int32_t layout = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_is_arraybuffer(env, argv[0], &is_ab) != napi_ok || !is_ab ||
      napi_get_arraybuffer_info(env, argv[0], &data, &len) != napi_ok || len < DTLS_IO_HEADER)
    return dtls_throw(env, "DTLS_ARGUMENT", "setIo(area: ArrayBuffer of at least %d bytes, layout)", DTLS_IO_HEADER);
  if (napi_get_value_int32(env, argv[1], &layout) != napi_ok || layout != DTLS_IO_LAYOUT)
    return dtls_throw(env, "DTLS_IO_LAYOUT", "this addon writes io area layout %d, not %d", DTLS_IO_LAYOUT, layout);
  dtls_instance_t *inst = NULL;
  if (napi_get_instance_data(env, (void **)&inst) != napi_ok || inst == NULL) {
    inst = calloc(1, sizeof(*inst));
    if (inst == NULL || napi_set_instance_data(env, inst, instance_finalize, NULL) != napi_ok) {
      free(inst);
      return dtls_throw(env, "DTLS_ARGUMENT", "setIo: out of memory");
    }
  }
  if (inst->io != NULL) napi_delete_reference(env, inst->io);
  inst->io = NULL;
  napi_create_reference(env, argv[0], 1, &inst->io);
  return NULL;
}

static size_t text_len(const char *s) {
  return s != NULL ? strlen(s) : 0;
}

/*
 * The result written into the io area: 1 when done (the queues are then empty), 0 when there is no io area or
 * the result does not fit (the caller then builds the array). The area is looked up on every call, so an
 * ArrayBuffer that JavaScript detached reads as too small rather than as a dangling pointer.
 */
static int io_put(napi_env env, dtls_outq_t *out, dtls_outq_t *data, int flags, double timeout, const char *texts[3]) {
  dtls_instance_t *inst = NULL;
  napi_value ab;
  void *area = NULL;
  size_t len = 0;
  if (napi_get_instance_data(env, (void **)&inst) != napi_ok || inst == NULL || inst->io == NULL) return 0;
  if (napi_get_reference_value(env, inst->io, &ab) != napi_ok || ab == NULL) return 0;
  if (napi_get_arraybuffer_info(env, ab, &area, &len) != napi_ok || area == NULL || len < DTLS_IO_HEADER) return 0;
  if (out->count + data->count > DTLS_IO_ITEMS) return 0;
  size_t total = DTLS_IO_HEADER;
  for (size_t i = 0; i < out->count; i++) total += out->items[i].len;
  for (size_t i = 0; i < data->count; i++) total += data->items[i].len;
  for (int i = 0; i < 3; i++) total += text_len(texts[i]);
  if (total > len) return 0;
  int32_t *w = area;
  unsigned char *p = (unsigned char *)area + DTLS_IO_HEADER;
  w[0] = flags;
  w[1] = timeout > 2147483647.0 ? 2147483647 : (int32_t)timeout;
  w[2] = (int32_t)out->count;
  w[3] = (int32_t)data->count;
  w[7] = 0;
  int32_t *lens = w + DTLS_IO_WORDS;
  for (size_t i = 0; i < out->count; i++, lens++) {
    memcpy(p, out->items[i].data, out->items[i].len);
    p += out->items[i].len;
    *lens = (int32_t)out->items[i].len;
  }
  for (size_t i = 0; i < data->count; i++, lens++) {
    memcpy(p, data->items[i].data, data->items[i].len);
    p += data->items[i].len;
    *lens = (int32_t)data->items[i].len;
  }
  for (int i = 0; i < 3; i++) {
    size_t n = text_len(texts[i]);
    if (n > 0) memcpy(p, texts[i], n);
    p += n;
    w[4 + i] = (int32_t)n;
  }
  dtls_outq_clear(out);
  dtls_outq_clear(data);
  return 1;
}

/*
 * The call's result: in the io area when `io` allows it and it fits, returning `ext` (listen's new peer) or
 * undefined; else the array, with `ext` at RES_PEER.
 */
static napi_value result_io(napi_env env, dtls_peer_t *peer, dtls_outq_t *data, int was_connected, int closed,
                            const char *error, int io, napi_value ext) {
  double timeout = -1;
  struct timeval tv;
  if (peer->ssl != NULL && !error && !closed && DTLSv1_get_timeout(peer->ssl, &tv))
    timeout = (double)tv.tv_sec * 1000.0 + (double)((tv.tv_usec + 999) / 1000);
  int flags = (peer->connected && !was_connected ? RES_CONNECTED : 0) | (closed ? RES_CLOSED : 0);
  const char *texts[3] = {error, peer->alert_sent, peer->alert_received};
  if (io && io_put(env, &peer->out, data, flags, timeout, texts)) {
    free(data->items);
    data->items = NULL;
    clear_errors();
    if (ext != NULL) return ext;
    napi_value none;
    napi_get_undefined(env, &none);
    return none;
  }
  napi_value obj = result_array(env, buffers(env, &peer->out), buffers(env, data), flags, timeout);
  set_str(env, obj, RES_ERROR, error);
  set_str(env, obj, RES_ALERT_SENT, peer->alert_sent);
  set_str(env, obj, RES_ALERT_RECEIVED, peer->alert_received);
  if (ext != NULL) napi_set_element(env, obj, RES_PEER, ext);
  free(data->items);
  data->items = NULL;
  ERR_clear_error();
  return obj;
}

static napi_value result(napi_env env, dtls_peer_t *peer, dtls_outq_t *data, int was_connected, int closed,
                         const char *error) {
  return result_io(env, peer, data, was_connected, closed, error, 1, NULL);
}

static int get_buffer_arg(napi_env env, napi_value v, void **data, size_t *len) {
  bool is_buf = false;
  if (napi_is_buffer(env, v, &is_buf) != napi_ok || !is_buf) return 0;
  return napi_get_buffer_info(env, v, data, len) == napi_ok;
}

/* listen(ctx, addressKey: Buffer, datagram: Buffer): a first datagram from an unknown source. */
napi_value dtls_listen(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], ext;
  void *addr, *dgram;
  size_t addr_len, dgram_len;
  char err[DTLS_REASON_LEN + 64] = {0};
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  dtls_ctx_t *ctx = argc == 3 ? dtls_get_ctx(env, argv[0]) : NULL;
  if (ctx == NULL || !get_buffer_arg(env, argv[1], &addr, &addr_len) ||
      !get_buffer_arg(env, argv[2], &dgram, &dgram_len))
    return dtls_throw(env, "DTLS_ARGUMENT", "listen(ctx, addressKey: Buffer, datagram: Buffer)");

  dtls_peer_t *peer = calloc(1, sizeof(*peer));
  if (peer == NULL) return dtls_throw(env, "DTLS_PEER", "out of memory");
  peer->magic = DTLS_PEER_MAGIC;
  peer->ctx = ctx;
  peer->psk_id_len = -1;
  peer->addr_len = addr_len < sizeof(peer->addr) ? addr_len : sizeof(peer->addr);
  memcpy(peer->addr, addr, peer->addr_len);
  reset_call_state(peer);
  peer->ssl = SSL_new(ctx->ssl_ctx);
  BIO *bio = peer->ssl != NULL ? dtls_bio_new(peer) : NULL;
  if (bio == NULL) {
    peer_finalize(env, peer, NULL);
    return dtls_throw(env, "DTLS_PEER", "SSL_new failed");
  }
  SSL_set_bio(peer->ssl, bio, bio);
  SSL_set_app_data(peer->ssl, peer);
  SSL_set_mtu(peer->ssl, ctx->mtu);
  SSL_set_accept_state(peer->ssl);

  peer->in = dgram;
  peer->in_len = dgram_len;
  BIO_ADDR *client = BIO_ADDR_new();
  peer->busy = 1;
  int r = DTLSv1_listen(peer->ssl, client);
  peer->busy = 0;
  BIO_ADDR_free(client);
  peer->in = NULL;

  dtls_outq_t data = {0};
  napi_value res;
  if (r != 1) {
    /* No verified cookie yet (HelloVerifyRequest in out), or not a ClientHello: no state is kept. */
    if (r < 0) dtls_openssl_error(err, sizeof(err), "invalid ClientHello");
    res = result(env, peer, &data, 0, 0, r < 0 ? err : NULL);
    peer_finalize(env, peer, NULL);
    return res;
  }
  if (napi_create_external(env, peer, peer_finalize, NULL, &ext) != napi_ok) {
    peer_finalize(env, peer, NULL);
    return dtls_throw(env, "DTLS_PEER", "napi_create_external failed");
  }
  napi_value ctx_value = argv[0];
  napi_create_reference(env, ctx_value, 1, &peer->ctx_ref);
  int closed = 0;
  peer->busy = 1;
  int rc = step(peer, &data, &closed, err, sizeof(err));
  peer->busy = 0;
  res = result_io(env, peer, &data, 0, closed, rc < 0 ? err : NULL, 1, ext);
  return finish(env, peer, res);
}

static dtls_peer_t *peer_arg(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want) return NULL;
  dtls_peer_t *peer = get_peer(env, argv[0]);
  if (peer == NULL || peer->freed) return NULL;
  if (!peer->busy) reset_call_state(peer);
  return peer;
}

/* Ends a call: a release asked for from a callback during it happens now. */
static napi_value finish(napi_env env, dtls_peer_t *peer, napi_value res) {
  if (peer->release_pending) peer_release(env, peer);
  return res;
}

static napi_value empty_result(napi_env env) {
  napi_value none;
  napi_get_undefined(env, &none);
  return result_array(env, none, none, RES_CLOSED, -1);
}

#define REFUSE_IF_BUSY(peer) \
  if ((peer)->busy) return dtls_throw(env, "DTLS_BUSY", "peer is inside an OpenSSL call (reentered from a callback)")

/* feed(peer, datagram) */
napi_value dtls_feed(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  void *dgram;
  size_t len;
  char err[DTLS_REASON_LEN + 64] = {0};
  dtls_peer_t *peer = peer_arg(env, info, 2, argv);
  if (peer == NULL || !get_buffer_arg(env, argv[1], &dgram, &len))
    return dtls_throw(env, "DTLS_ARGUMENT", "feed(peer, datagram: Buffer) on a live peer");
  REFUSE_IF_BUSY(peer);
  int was = peer->connected, closed = 0;
  dtls_outq_t data = {0};
  peer->in = dgram;
  peer->in_len = len;
  peer->busy = 1;
  int rc = step(peer, &data, &closed, err, sizeof(err));
  peer->busy = 0;
  peer->in = NULL;
  return finish(env, peer, result(env, peer, &data, was, closed, rc < 0 ? err : NULL));
}

/* write(peer, data): one record; out holds the protected datagram. */
napi_value dtls_write(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  void *buf;
  size_t len;
  char err[DTLS_REASON_LEN + 64] = {0};
  dtls_peer_t *peer = peer_arg(env, info, 2, argv);
  if (peer == NULL || !get_buffer_arg(env, argv[1], &buf, &len))
    return dtls_throw(env, "DTLS_ARGUMENT", "write(peer, data: Buffer) on a live peer");
  REFUSE_IF_BUSY(peer);
  dtls_outq_t data = {0};
  if (!peer->connected) return result(env, peer, &data, 1, 0, "handshake not complete");
  if (len == 0) return result(env, peer, &data, 1, 0, NULL);
  peer->busy = 1;
  int n = SSL_write(peer->ssl, buf, (int)len);
  peer->busy = 0;
  if (n <= 0) describe_failure(peer, SSL_get_error(peer->ssl, n), err, sizeof(err));
  return finish(env, peer, result(env, peer, &data, 1, 0, n <= 0 ? err : NULL));
}

/* handleTimeout(peer): retransmit the last flight when OpenSSL's timer has expired. */
napi_value dtls_handle_timeout(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char err[DTLS_REASON_LEN + 64] = {0};
  dtls_peer_t *peer = peer_arg(env, info, 1, argv);
  if (peer == NULL) return dtls_throw(env, "DTLS_ARGUMENT", "handleTimeout(peer) on a live peer");
  REFUSE_IF_BUSY(peer);
  int was = peer->connected;
  dtls_outq_t data = {0};
  peer->busy = 1;
  int r = DTLSv1_handle_timeout(peer->ssl);
  peer->busy = 0;
  if (r < 0) describe_failure(peer, SSL_get_error(peer->ssl, r), err, sizeof(err));
  return finish(env, peer, result(env, peer, &data, was, 0, r < 0 ? err : NULL));
}

/* shutdown(peer): send close_notify (if the handshake completed) and free the peer. */
napi_value dtls_shutdown(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  dtls_peer_t *peer = peer_arg(env, info, 1, argv);
  if (peer == NULL) return dtls_throw(env, "DTLS_ARGUMENT", "shutdown(peer) on a live peer");
  dtls_outq_t data = {0};
  if (peer->connected && !peer->busy) SSL_shutdown(peer->ssl);
  napi_value res = peer->busy ? empty_result(env) : result(env, peer, &data, 1, 1, NULL);
  peer_release(env, peer);
  return res;
}

/* free(peer): release the SSL object now (the external itself goes with the GC). */
napi_value dtls_free(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  dtls_peer_t *peer = argc == 1 ? get_peer(env, argv[0]) : NULL;
  if (peer == NULL) return dtls_throw(env, "DTLS_ARGUMENT", "free(peer)");
  peer_release(env, peer);
  return NULL;
}

/* peerInfo(peer): { version, cipher, pskIdentity?: Buffer, cert?: { subject, cn?, san } } */
napi_value dtls_peer_info(napi_env env, napi_callback_info info) {
  napi_value argv[1], obj, v;
  dtls_peer_t *peer = peer_arg(env, info, 1, argv);
  if (peer == NULL) return dtls_throw(env, "DTLS_ARGUMENT", "peerInfo(peer) on a live peer");
  napi_create_object(env, &obj);
  set_named_str(env, obj, "version", SSL_get_version(peer->ssl));
  const SSL_CIPHER *c = SSL_get_current_cipher(peer->ssl);
  if (c != NULL) {
    set_named_str(env, obj, "cipher", SSL_CIPHER_get_name(c));
    set_named_str(env, obj, "cipherStandardName", SSL_CIPHER_standard_name(c));
  }
  if (peer->psk_id_len >= 0) {
    napi_create_buffer_copy(env, (size_t)peer->psk_id_len, peer->psk_id, NULL, &v);
    napi_set_named_property(env, obj, "pskIdentity", v);
  } else if (SSL_get_psk_identity(peer->ssl) != NULL) { /* resumed session: validated when it was made */
    const char *id = SSL_get_psk_identity(peer->ssl);
    napi_create_buffer_copy(env, strlen(id), id, NULL, &v);
    napi_set_named_property(env, obj, "pskIdentity", v);
  }
  X509 *cert = SSL_get0_peer_certificate(peer->ssl);
  if (cert != NULL) napi_set_named_property(env, obj, "cert", dtls_cert_info(env, cert));
  napi_value rpk = dtls_peer_rpk(env, peer->ssl);
  if (rpk != NULL) napi_set_named_property(env, obj, "rpk", rpk);
  return obj;
}
