/*
 * Plain-CoAP load generator for `npm run bench` (bench/c-loadgen.ts builds it with gcc and runs it), the
 * UDP sibling of dtls-loadgen.c. `concurrency` slots, each one UDP socket on 127.0.0.1 reused device after
 * device (a carrier-grade NAT's public port, as bench/device.ts's slots), each device from a random
 * Message ID and token. Two modes:
 *   boot:  the LwM2M bootstrap (OMA-TS-LightweightM2M-Core 1.1, 6.1.3 Bootstrap-Request): a confirmable
 *          POST /bs?ep=bench-dev-N(&pct=P), then it answers the Bootstrap-Server's requests with
 *          piggy-backed ACKs (RFC 7252 5.2.1): Delete 2.02, Write and Bootstrap-Finish 2.04, Discover/Read
 *          2.05 with a small link-format body; the bootstrap ends with the ACK of Bootstrap-Finish.
 *   floor: the client half of the floor (bench/floor.ts): a script of datagram sizes and directions taken
 *          from a traced bootstrap; byte 0 of every datagram is its index in the script.
 * The JavaScript device of bench/device.ts decodes every payload and checks Finish's consistency, which
 * costs about half a millisecond of load-generator CPU per bootstrap on the machine the server runs on;
 * this one is a few microseconds of C per datagram in either mode, so floor and server storms are driven
 * by the same client and the ratio between them measures the server. It does not check what the server
 * wrote: the tests and bench/device.ts (warm-up, history, big storm) do.
 *
 * Usage: coap-loadgen HOST PORT FIRST COUNT CONCURRENCY boot|floor PCT(-1: none) TIMEOUT_MS SCRIPT
 *   SCRIPT (floor): d or s per datagram (device, server) followed by its size, comma-separated: d30,s12,...
 *   ("-" in boot mode).
 * Prints one JSON object: {completed, failed, causes, latencies (ms), wallS, cpuS, requests}.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "coap-device.h"

#define ACK_TIMEOUT_MS 2000
#define FLOOR_RETRY_MS 1000
#define MAX_SCRIPT 64

typedef struct {
  int fd;
  long n; /* device number, -1: idle */
  double started;
  double deadline;
  /* boot */
  unsigned short mid;
  unsigned char token[4];
  int accepted;
  int requests; /* server requests answered for this device */
  double retx_at;
  int retx_count;
  unsigned char request[300];
  int request_len;
  /* floor */
  int want;      /* index of the next server datagram expected */
  int last_sent; /* first device datagram of the last burst */
  int retired;   /* no devices left for this slot */
} slot_t;

static int mode_floor;
static int pct = -1;
static double timeout_ms;
static long next_dev, end_dev;
static int script_len;
static char script_from[MAX_SCRIPT];
static unsigned char *script_buf[MAX_SCRIPT];
static int script_size[MAX_SCRIPT];
static unsigned int rng = 2463534242u;

static unsigned int xorshift(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static int open_socket(void) {
  struct sockaddr_in from;
  memset(&from, 0, sizeof(from));
  from.sin_family = AF_INET;
  from.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0 || connect(fd, (struct sockaddr *)&server, sizeof(server)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void put(slot_t *s, const unsigned char *b, int len) {
  if (send(s->fd, b, (size_t)len, 0) < 0 && errno != EAGAIN && errno != ECONNREFUSED) perror("send");
}

/* A device ended. A failed one leaves its socket (the server's session may still send to it): new port. */
static void finish(slot_t *s, int ok, const char *why) {
  if (ok) latencies[completed++] = now_ms() - s->started;
  else {
    cause(why);
    close(s->fd);
    s->fd = open_socket();
  }
  s->n = -1;
}

/* CoAP POST /bs?ep=bench-dev-N(&pct=P), confirmable. */
static void bootstrap_request(slot_t *s) {
  unsigned int r = xorshift();
  memcpy(s->token, &r, 4);
  s->mid = (unsigned short)(xorshift() & 0xffff);
  s->request_len = bootstrap_request_into(s->request, s->n, pct, s->mid, s->token);
  s->retx_at = now_ms() + ACK_TIMEOUT_MS;
  put(s, s->request, s->request_len);
}

static void send_slot(void *ctx, const unsigned char *d, int len) {
  put((slot_t *)ctx, d, len);
}

/* One CoAP datagram at this slot's device (coap-device.h); requests are answered even between devices. */
static void coap(slot_t *s, const unsigned char *m, int len) {
  unsigned char code = 0;
  switch (device_datagram(m, len, s->n >= 0 ? s->token : NULL, s->mid, send_slot, s, &code)) {
    case DEV_FINISH:
      /* Finish ends this device; a retransmitted Finish of the previous device (no request seen yet for
         this one) does not. */
      if (s->n >= 0 && s->requests > 0) {
        finish(s, 1, NULL);
        return;
      }
      /* fall through */
    case DEV_REQUEST:
      if (s->n >= 0) s->requests++;
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

/* Floor: send the device datagrams from script index i on; returns 1 when the script is done. */
static int floor_send_from(slot_t *s, int i) {
  s->last_sent = i;
  int k = i;
  while (k < script_len && script_from[k] == 'd') {
    put(s, script_buf[k], script_size[k]);
    k++;
  }
  if (k >= script_len) return 1;
  s->want = k;
  s->retx_at = now_ms() + FLOOR_RETRY_MS;
  return 0;
}

static void floor_receive(slot_t *s, const unsigned char *m, int len) {
  if (s->n < 0 || len < 1) return;
  int j = m[0];
  if (j < s->want || j >= script_len) return; /* a duplicate after a resend */
  s->want = j + 1;
  if (j + 1 < script_len && script_from[j + 1] == 'd') {
    if (floor_send_from(s, j + 1)) finish(s, 1, NULL);
  } else if (j == script_len - 1) {
    finish(s, 1, NULL);
  }
}

static int start(slot_t *s) {
  if (next_dev >= end_dev) return 0;
  if (s->fd < 0) s->fd = open_socket();
  s->n = next_dev++;
  s->started = now_ms();
  s->deadline = s->started + timeout_ms;
  s->accepted = 0;
  s->requests = 0;
  s->retx_count = 0;
  if (s->fd < 0) {
    finish(s, 0, "socket");
    return 1;
  }
  if (mode_floor) {
    if (floor_send_from(s, 0)) finish(s, 1, NULL);
  } else {
    bootstrap_request(s);
  }
  return 1;
}

static int parse_script(const char *text) {
  const char *p = text;
  while (*p && script_len < MAX_SCRIPT) {
    char from = *p++;
    int size = (int)strtol(p, (char **)&p, 10);
    if ((from != 'd' && from != 's') || size < 1 || size > 2000) return -1;
    script_from[script_len] = from;
    script_size[script_len] = size;
    script_buf[script_len] = malloc((size_t)size);
    memset(script_buf[script_len], 0x5a, (size_t)size);
    script_buf[script_len][0] = (unsigned char)script_len;
    script_len++;
    if (*p == ',') p++;
  }
  return script_len > 0 && script_from[0] == 'd' ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc != 10) {
    fprintf(stderr, "usage: coap-loadgen HOST PORT FIRST COUNT CONCURRENCY boot|floor PCT TIMEOUT_MS SCRIPT\n");
    return 2;
  }
  if (!server_address(argv[1], argv[2])) return 2;
  next_dev = atol(argv[3]);
  end_dev = next_dev + atol(argv[4]);
  int conc = atoi(argv[5]);
  mode_floor = strcmp(argv[6], "floor") == 0;
  pct = atoi(argv[7]);
  timeout_ms = atof(argv[8]);
  if (mode_floor && parse_script(argv[9]) != 0) {
    fprintf(stderr, "coap-loadgen: a floor script is d/s and a size per datagram, starting with d\n");
    return 2;
  }
  rng ^= (unsigned int)getpid() * 2654435761u ^ (unsigned int)(now_ms() * 1000);
  latencies = calloc((size_t)(end_dev - next_dev) + 1, sizeof(double));
  if (conc < 1) conc = 1;
  if (conc > end_dev - next_dev) conc = (int)(end_dev - next_dev);
  if (conc < 1) conc = 1;

  slot_t *slots = calloc((size_t)conc, sizeof(slot_t));
  struct pollfd *pfd = calloc((size_t)conc, sizeof(struct pollfd));
  double t0 = now_ms();
  int live = 0;
  for (int i = 0; i < conc; i++) {
    slots[i].n = -1;
    slots[i].fd = -1;
    while (slots[i].n < 0 && start(&slots[i])) {
    }
    if (slots[i].n >= 0) live++;
    else slots[i].retired = 1;
  }
  unsigned char buf[2048];
  while (live > 0) {
    double now = now_ms(), wake = now + 1000;
    for (int i = 0; i < conc; i++) {
      slot_t *s = &slots[i];
      pfd[i].fd = s->retired ? -1 : s->fd;
      pfd[i].events = POLLIN;
      pfd[i].revents = 0;
      if (s->n < 0) continue;
      if (s->deadline < wake) wake = s->deadline;
      if ((mode_floor || !s->accepted) && s->retx_at < wake) wake = s->retx_at;
    }
    int ms = (int)(wake - now);
    poll(pfd, (nfds_t)conc, ms > 0 ? ms : 0);
    now = now_ms();
    for (int i = 0; i < conc; i++) {
      slot_t *s = &slots[i];
      if (s->retired) continue;
      if (pfd[i].revents & (POLLIN | POLLERR)) {
        for (;;) {
          ssize_t n = recv(s->fd, buf, sizeof(buf), 0);
          if (n < 0) break; /* EAGAIN, or an ICMP error (ECONNREFUSED) */
          if (mode_floor) floor_receive(s, buf, (int)n);
          else coap(s, buf, (int)n);
        }
      }
      if (s->n >= 0) {
        if (now >= s->deadline) finish(s, 0, mode_floor ? "timeout" : s->accepted ? "timeout" : "bs-timeout");
        else if (mode_floor && now >= s->retx_at) {
          if (floor_send_from(s, s->last_sent)) finish(s, 1, NULL);
        } else if (!mode_floor && !s->accepted && now >= s->retx_at) {
          if (++s->retx_count > 4) finish(s, 0, "bs-timeout");
          else {
            put(s, s->request, s->request_len);
            s->retx_at = now + ACK_TIMEOUT_MS * (1 << s->retx_count);
          }
        }
      }
      if (s->n < 0) {
        while (s->n < 0 && start(s)) {
        }
        if (s->n < 0) {
          s->retired = 1;
          live--;
        }
      }
    }
  }
  char extra[64];
  snprintf(extra, sizeof(extra), "\"requests\":%ld", requests_answered);
  print_result(t0, extra);
  for (int i = 0; i < conc; i++)
    if (slots[i].fd >= 0) close(slots[i].fd);
  return 0;
}
