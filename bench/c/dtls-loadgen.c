/*
 * DTLS-PSK load generator for `npm run bench` (bench/dtls-client.ts builds it with the system OpenSSL and
 * runs it): `concurrency` devices at a time, each from its own loopback address (as bench/dtls-client.ts's
 * sourceAddress), do a DTLS 1.2 handshake with TLS_PSK_WITH_AES_128_CCM_8 (identity bench-dev-N) and then
 *   raw: close_notify and the next device;
 *   lib: the LwM2M bootstrap (OMA-TS-LightweightM2M-Core 1.1, 6.1.3 Bootstrap-Request): a confirmable
 *        POST /bs?ep=NAME(&pct=N), then it answers the Bootstrap-Server's requests with piggy-backed ACKs
 *        (RFC 7252 5.2.1): Delete 2.02, Write and Bootstrap-Finish 2.04, Discover/Read 2.05 with a small
 *        link-format body; the bootstrap ends with the ACK of Bootstrap-Finish (POST /bs).
 * The JavaScript client (node-dtls-client) spent more CPU than the server it measured; this one is a few
 * microseconds of C per datagram, so the bench's DTLS ratio measures the server.
 *
 * Usage: dtls-loadgen HOST PORT FIRST COUNT CONCURRENCY MODE(raw|lib) KEYHEX PCT(-1: none) TIMEOUT_MS
 * Prints one JSON object: {completed, failed, causes, latencies (ms), wallS, cpuS, handshakeMs (mean), requests
 * (server requests answered)}.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "coap-device.h"

#define HANDSHAKE_TIMEOUT_MS 5000
#define ACK_TIMEOUT_MS 2000

typedef struct {
  int fd;
  SSL *ssl;
  long n; /* device number, -1: idle */
  double started;
  double deadline;      /* whole bootstrap (or handshake) must end by then */
  double hs_deadline;   /* handshake must end by then */
  int connected;
  unsigned short mid;   /* of our POST /bs */
  unsigned char token[4];
  int accepted;         /* 2.04 for POST /bs seen */
  double retx_at;
  int retx_count;
  unsigned char request[300];
  int request_len;
} slot_t;

static unsigned char psk[64];
static int psk_len;
static int mode_lib;
static int pct = -1;
static double timeout_ms;
static long next_dev, end_dev;
static double handshake_ms_sum; /* over completed handshakes */
static long handshakes;

static unsigned int psk_cb(SSL *ssl, const char *hint, char *identity, unsigned int max_id, unsigned char *key,
                           unsigned int max_key) {
  (void)hint;
  slot_t *s = SSL_get_app_data(ssl);
  snprintf(identity, max_id, "bench-dev-%ld", s->n);
  if ((unsigned int)psk_len > max_key) return 0;
  memcpy(key, psk, (size_t)psk_len);
  return (unsigned int)psk_len;
}

/* Device n's source address: 127.1.0.1 upwards, skipping .0 and .255 in the last byte. */
static void source_address(long n, struct sockaddr_in *a) {
  long host = (n % 254) + 1, rest = n / 254;
  memset(a, 0, sizeof(*a));
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl((127u << 24) | ((unsigned)(1 + (rest / 256) % 254) << 16) | ((unsigned)(rest % 256) << 8) | (unsigned)host);
}

static void finish(slot_t *s, int ok, const char *why) {
  if (ok) latencies[completed++] = now_ms() - s->started;
  else cause(why);
  if (s->ssl != NULL) {
    if (s->connected) SSL_shutdown(s->ssl); /* close_notify: the server frees the peer at once */
    SSL_free(s->ssl);                        /* closes the socket (BIO_CLOSE) */
  } else if (s->fd >= 0) {
    close(s->fd);
  }
  s->ssl = NULL;
  s->fd = -1;
  s->n = -1;
}

static int start(slot_t *s) {
  if (next_dev >= end_dev) return 0;
  long n = next_dev++;
  struct sockaddr_in from;
  memset(s, 0, sizeof(*s));
  s->n = n;
  s->started = now_ms();
  s->hs_deadline = s->started + (timeout_ms < HANDSHAKE_TIMEOUT_MS ? timeout_ms : HANDSHAKE_TIMEOUT_MS);
  s->deadline = s->started + timeout_ms;
  s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  source_address(n, &from);
  if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&from, sizeof(from)) != 0 ||
      connect(s->fd, (struct sockaddr *)&server, sizeof(server)) != 0) {
    finish(s, 0, "socket");
    return 1;
  }
  return 2;
}

static void send_request(slot_t *s) {
  if (SSL_write(s->ssl, s->request, s->request_len) <= 0) ERR_clear_error();
}

/* CoAP POST /bs?ep=bench-dev-N(&pct=P), confirmable. */
static void bootstrap_request(slot_t *s) {
  RAND_bytes(s->token, 4);
  RAND_bytes((unsigned char *)&s->mid, 2);
  s->request_len = bootstrap_request_into(s->request, s->n, pct, s->mid, s->token);
  s->retx_at = now_ms() + ACK_TIMEOUT_MS;
  send_request(s);
}

static void send_ssl(void *ctx, const unsigned char *d, int len) {
  if (SSL_write(((slot_t *)ctx)->ssl, d, len) <= 0) ERR_clear_error();
}

/* One CoAP datagram at this slot's device (coap-device.h). */
static void coap(slot_t *s, const unsigned char *m, int len) {
  unsigned char code = 0;
  switch (device_datagram(m, len, s->token, s->mid, send_ssl, s, &code)) {
    case DEV_FINISH:
      finish(s, 1, NULL);
      return;
    case DEV_ACCEPTED:
      s->accepted = 1;
      return;
    case DEV_REFUSED: {
      char why[32];
      refused_cause(why, sizeof(why), code);
      finish(s, 0, why);
      return;
    }
  }
}

static void drive(slot_t *s) {
  if (!s->connected) {
    int r = SSL_do_handshake(s->ssl);
    if (r == 1) {
      s->connected = 1;
      handshakes++;
      handshake_ms_sum += now_ms() - s->started;
      if (!mode_lib) {
        finish(s, 1, NULL);
        return;
      }
      bootstrap_request(s);
    } else {
      int e = SSL_get_error(s->ssl, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        char why[64];
        unsigned long err = ERR_get_error();
        snprintf(why, sizeof(why), "handshake: %s", err ? ERR_reason_error_string(err) : "failed");
        ERR_clear_error();
        finish(s, 0, why);
        return;
      }
      return;
    }
  }
  unsigned char buf[2048];
  for (;;) {
    int n = SSL_read(s->ssl, buf, sizeof(buf));
    if (n > 0) {
      coap(s, buf, n);
      if (s->n < 0) return; /* finished */
      continue;
    }
    int e = SSL_get_error(s->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
    ERR_clear_error();
    finish(s, 0, e == SSL_ERROR_ZERO_RETURN ? "closed by server" : "dtls read error");
    return;
  }
}

static int open_slot(slot_t *s, SSL_CTX *ctx) {
  for (;;) {
    int r = start(s);
    if (r == 0) return 0;
    if (r == 1) continue; /* socket failed: counted, next device */
    BIO *bio = BIO_new_dgram(s->fd, BIO_CLOSE);
    BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, &server);
    s->ssl = SSL_new(ctx);
    SSL_set_bio(s->ssl, bio, bio);
    SSL_set_app_data(s->ssl, s);
    SSL_set_connect_state(s->ssl);
    drive(s);
    if (s->n >= 0) return 1;
  }
}

int main(int argc, char **argv) {
  if (argc != 10) {
    fprintf(stderr, "usage: dtls-loadgen HOST PORT FIRST COUNT CONCURRENCY raw|lib KEYHEX PCT TIMEOUT_MS\n");
    return 2;
  }
  if (!server_address(argv[1], argv[2])) return 2;
  next_dev = atol(argv[3]);
  end_dev = next_dev + atol(argv[4]);
  int conc = atoi(argv[5]);
  mode_lib = strcmp(argv[6], "lib") == 0;
  for (const char *h = argv[7]; h[0] && h[1] && psk_len < (int)sizeof(psk); h += 2) {
    unsigned int b;
    sscanf(h, "%2x", &b);
    psk[psk_len++] = (unsigned char)b;
  }
  pct = atoi(argv[8]);
  timeout_ms = atof(argv[9]);
  latencies = calloc((size_t)(end_dev - next_dev) + 1, sizeof(double));
  if (conc < 1) conc = 1;

  SSL_CTX *ctx = SSL_CTX_new(DTLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
  SSL_CTX_set_security_level(ctx, 0);
  if (SSL_CTX_set_cipher_list(ctx, "PSK-AES128-CCM8") != 1) {
    fprintf(stderr, "dtls-loadgen: this OpenSSL has no PSK-AES128-CCM8\n");
    return 1;
  }
  SSL_CTX_set_psk_client_callback(ctx, psk_cb);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);

  slot_t *slots = calloc((size_t)conc, sizeof(slot_t));
  struct pollfd *pfd = calloc((size_t)conc, sizeof(struct pollfd));
  double t0 = now_ms();
  int live = 0;
  for (int i = 0; i < conc; i++) {
    slots[i].n = -1;
    slots[i].fd = -1;
    if (open_slot(&slots[i], ctx)) live++;
  }
  while (live > 0) {
    double now = now_ms(), wake = now + 1000;
    for (int i = 0; i < conc; i++) {
      slot_t *s = &slots[i];
      pfd[i].fd = s->n >= 0 ? s->fd : -1;
      pfd[i].events = POLLIN;
      pfd[i].revents = 0;
      if (s->n < 0) continue;
      double d = s->connected ? s->deadline : s->hs_deadline;
      if (d < wake) wake = d;
      struct timeval tv;
      if (!s->connected && DTLSv1_get_timeout(s->ssl, &tv)) {
        double at = now + tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0;
        if (at < wake) wake = at;
      }
      if (s->connected && !s->accepted && s->retx_at < wake) wake = s->retx_at;
    }
    int ms = (int)(wake - now);
    poll(pfd, (nfds_t)conc, ms > 0 ? ms : 0);
    now = now_ms();
    for (int i = 0; i < conc; i++) {
      slot_t *s = &slots[i];
      if (s->n < 0) continue;
      if (pfd[i].revents & (POLLIN | POLLERR)) drive(s);
      if (s->n >= 0 && !s->connected) {
        struct timeval tv;
        if (now >= s->hs_deadline) finish(s, 0, "handshake: timeout");
        else if (DTLSv1_get_timeout(s->ssl, &tv) && tv.tv_sec == 0 && tv.tv_usec == 0) {
          if (DTLSv1_handle_timeout(s->ssl) < 0) finish(s, 0, "handshake: retransmission failed");
        }
      } else if (s->n >= 0) {
        if (now >= s->deadline) finish(s, 0, s->accepted ? "timeout" : "bs-timeout");
        else if (!s->accepted && now >= s->retx_at) {
          if (++s->retx_count > 4) finish(s, 0, "bs-timeout");
          else {
            send_request(s);
            s->retx_at = now + ACK_TIMEOUT_MS * (1 << s->retx_count);
          }
        }
      }
      if (s->n < 0 && !open_slot(s, ctx)) live--;
    }
  }
  char extra[96];
  snprintf(extra, sizeof(extra), "\"handshakeMs\":%.3f,\"requests\":%ld", handshakes ? handshake_ms_sum / handshakes : 0.0, requests_answered);
  print_result(t0, extra);
  SSL_CTX_free(ctx);
  return 0;
}
