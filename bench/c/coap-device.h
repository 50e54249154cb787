/*
 * The CoAP half of the bench's C devices (coap-loadgen.c over UDP, dtls-loadgen.c over DTLS): the
 * Bootstrap-Request they send and the piggy-backed answers they give (RFC 7252 3, 5.2.1;
 * OMA-TS-LightweightM2M-Core 1.1, 6.1.3 and 6.1.7). Header-only: each load generator is one gcc call.
 */
#ifndef BENCH_COAP_DEVICE_H
#define BENCH_COAP_DEVICE_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_CAUSES 32

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* The run's tally: completed devices with their latencies, failed ones by cause. */
static long completed, failed;
static double *latencies;
static struct { char text[64]; long count; } causes[MAX_CAUSES];
static int ncauses;
static struct sockaddr_in server;

static void cause(const char *c) {
  failed++;
  for (int i = 0; i < ncauses; i++)
    if (strcmp(causes[i].text, c) == 0) {
      causes[i].count++;
      return;
    }
  if (ncauses < MAX_CAUSES) {
    snprintf(causes[ncauses].text, sizeof(causes[ncauses].text), "%s", c);
    causes[ncauses++].count = 1;
  }
}

/* The server's IPv4 address and port into `server`; 0 when HOST is no IPv4 address. */
static int server_address(const char *host, const char *port) {
  memset(&server, 0, sizeof(server));
  server.sin_family = AF_INET;
  server.sin_port = htons((unsigned short)atoi(port));
  return inet_pton(AF_INET, host, &server.sin_addr) == 1;
}

/* The one JSON object the bench reads: the tally, wall and CPU seconds since t0, and `extra` ("name":value,...). */
static void print_result(double t0, const char *extra) {
  struct rusage ru;
  double wall = (now_ms() - t0) / 1000.0;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  printf("{\"completed\":%ld,\"failed\":%ld,\"wallS\":%.6f,\"cpuS\":%.6f,%s,\"causes\":{", completed, failed, wall, cpu, extra);
  for (int i = 0; i < ncauses; i++) printf("%s\"%s\":%ld", i ? "," : "", causes[i].text, causes[i].count);
  printf("},\"latencies\":[");
  for (long i = 0; i < completed; i++) printf("%s%.3f", i ? "," : "", latencies[i]);
  printf("]}\n");
}

/* What a device answers to Bootstrap-Discover (and to a Read: the bench's plan reads nothing). */
#define DISCOVER_BODY "</>;lwm2m=1.1,</0>;ver=1.2,</1>;ver=1.2,</0/0>,</1/0>,</3/0>"

/* CoAP POST /bs?ep=bench-dev-N(&pct=P), confirmable, token of 4 bytes, into p; returns its length. */
static int bootstrap_request_into(unsigned char *out, long n, int pct, unsigned short mid, const unsigned char token[4]) {
  unsigned char *p = out;
  char ep[64], q[16];
  int eplen = snprintf(ep, sizeof(ep), "ep=bench-dev-%ld", n);
  *p++ = 0x40 | 4; /* ver 1, CON, TKL 4 */
  *p++ = 0x02;     /* POST */
  *p++ = mid >> 8;
  *p++ = mid & 0xff;
  memcpy(p, token, 4);
  p += 4;
  *p++ = (11 << 4) | 2; /* Uri-Path (11) "bs" */
  *p++ = 'b';
  *p++ = 's';
  if (eplen < 13) { /* Uri-Query (15): delta 4 */
    *p++ = (4 << 4) | eplen;
  } else {
    *p++ = (4 << 4) | 13;
    *p++ = (unsigned char)(eplen - 13);
  }
  memcpy(p, ep, (size_t)eplen);
  p += eplen;
  if (pct >= 0) {
    int qlen = snprintf(q, sizeof(q), "pct=%d", pct);
    *p++ = (0 << 4) | qlen; /* another Uri-Query: delta 0 */
    memcpy(p, q, (size_t)qlen);
    p += qlen;
  }
  return (int)(p - out);
}

/* A piggy-backed ACK to `req` with `code` (class.detail as c*32+d), same Message ID and token; returns its length. */
static int answer_into(unsigned char *out, const unsigned char *req, int tkl, unsigned char code, const char *body) {
  int len = 4 + tkl;
  out[0] = 0x60 | tkl; /* ver 1, ACK */
  out[1] = code;
  out[2] = req[2];
  out[3] = req[3];
  memcpy(out + 4, req + 4, (size_t)tkl);
  if (body != NULL) {
    size_t bl = strlen(body);
    out[len++] = (12 << 4) | 1; /* Content-Format: 40 (application/link-format) */
    out[len++] = 40;
    out[len++] = 0xff;
    memcpy(out + len, body, bl);
    len += (int)bl;
  }
  return len;
}

/* The answer code a device gives a server request: Delete 2.02, GET 2.05, Write/Finish 2.04. */
static unsigned char answer_code(unsigned char request_code) {
  switch (request_code) {
    case 1: return (2 << 5) | 5;
    case 4: return (2 << 5) | 2;
    default: return (2 << 5) | 4;
  }
}

/* Is the request's Uri-Path exactly "bs"? (Bootstrap-Finish is POST /bs.) */
static int path_is_bs(const unsigned char *m, int len, int tkl) {
  int i = 4 + tkl, opt = 0, segments = 0, bs = 0;
  while (i < len && m[i] != 0xff) {
    int delta = m[i] >> 4, olen = m[i] & 15;
    i++;
    if (delta == 13) delta = 13 + m[i++];
    else if (delta == 14) { delta = 269 + (m[i] << 8 | m[i + 1]); i += 2; }
    if (olen == 13) olen = 13 + m[i++];
    else if (olen == 14) { olen = 269 + (m[i] << 8 | m[i + 1]); i += 2; }
    opt += delta;
    if (opt == 11) {
      segments++;
      bs = olen == 2 && i + 2 <= len && m[i] == 'b' && m[i + 1] == 's';
    }
    i += olen;
  }
  return segments == 1 && bs;
}
/* Server requests this process answered (both load generators report it as "requests"). */
static long requests_answered;

/* What one datagram was to a device (device_datagram). */
enum device_event { DEV_IGNORED, DEV_REQUEST, DEV_FINISH, DEV_ACCEPTED, DEV_REFUSED };

/*
 * A device's side of one CoAP datagram. A server request is answered piggy-backed through send(ctx, …) and
 * counted: DEV_FINISH for POST /bs (Bootstrap-Finish), DEV_REQUEST otherwise. With a token (a device waiting
 * for the answer to its POST /bs): that answer is DEV_ACCEPTED (2.04) or DEV_REFUSED with its code in *code,
 * a separate one acknowledged first; an empty ACK of `mid` is DEV_ACCEPTED (a separate response follows).
 */
static int device_datagram(const unsigned char *m, int len, const unsigned char *token, unsigned short mid,
                           void (*send)(void *ctx, const unsigned char *d, int n), void *ctx, unsigned char *code) {
  if (len < 4 || (m[0] >> 6) != 1) return DEV_IGNORED;
  int type = (m[0] >> 4) & 3, tkl = m[0] & 15;
  unsigned char c = m[1];
  if (tkl > 8 || len < 4 + tkl) return DEV_IGNORED;
  if (c >> 5 == 0 && c != 0 && (type == 0 || type == 1)) { /* a request: GET (Discover, Read), DELETE, POST, PUT */
    requests_answered++;
    unsigned char out[200];
    int n = answer_into(out, m, tkl, answer_code(c), c == 1 ? DISCOVER_BODY : NULL);
    send(ctx, out, n);
    return c == 2 && path_is_bs(m, len, tkl) ? DEV_FINISH : DEV_REQUEST;
  }
  if (token == NULL) return DEV_IGNORED;
  if (c >> 5 >= 2 && tkl == 4 && memcmp(m + 4, token, 4) == 0) { /* the answer to POST /bs */
    if (type == 0) { /* separate response: acknowledge it */
      unsigned char ack[4] = {0x60, 0, m[2], m[3]};
      send(ctx, ack, 4);
    }
    *code = c;
    return c == ((2 << 5) | 4) ? DEV_ACCEPTED : DEV_REFUSED;
  }
  if (type == 2 && c == 0 && (unsigned short)(m[2] << 8 | m[3]) == mid) return DEV_ACCEPTED;
  return DEV_IGNORED;
}

/* The failure cause of a refused POST /bs: "bs-4.03". */
static void refused_cause(char *why, size_t size, unsigned char code) {
  snprintf(why, size, "bs-%d.%02d", code >> 5, code & 31);
}

#endif
