/*
 * loadgen.c: WebSocket load generator for wscore's end-to-end benchmark (bench/e2e).
 *
 * One thread, one epoll instance, non-blocking sockets. Why C + epoll: the server under test
 * gets one core and this program the other, and the comparison is only fair if this side is
 * never the bottleneck. Per message it does a handful of cheap things with no allocation and
 * no garbage collector: build a masked frame (one XOR pass, 8 bytes at a time) into a batch
 * buffer, one write() per batch per connection, one read() per readiness event, a streaming
 * frame parse and one memcmp of the echo against the bytes that were sent. It reports its
 * own CPU time over the measured window (loadgen_cpu, in cores) so a run where it approached
 * 1.0 can be flagged, and how long it and the server waited for their cores (runq_wait,
 * from /proc/<pid>/schedstat) so a run disturbed by other processes can be flagged too.
 *
 * Modes:
 *   throughput  N connections, each keeps K messages in flight (a new one per echo)
 *   latency     the same with K = 1: round-trip times without queueing
 *   idle        open N connections, print "event open {...}", hold them until stdin has a
 *               line or closes (or --hold seconds), then close: connection-scale memory
 *   broadcast   open N connections; per round, one connection sends a message, the server
 *               sends it to everyone (the sender included); time until all N have it
 *
 * Every echo is verified: a message's bytes are a function of (connection, sequence number),
 * so a corrupted, truncated, extended, reordered or wrongly-typed (text/binary) echo fails
 * the comparison and is counted under errors.mismatch. After the measured window no new
 * messages are sent and the program waits (bounded) for every outstanding echo; what never
 * came back is errors.lost. Then each connection is closed with a close handshake.
 *
 * permessage-deflate (RFC 7692): --deflate nctx offers "client_no_context_takeover;
 * server_no_context_takeover", --deflate ctx offers plain "permessage-deflate" (context
 * takeover both ways). Sent messages are raw-deflated with a sync flush, the trailing
 * 00 00 FF FF is stripped and RSV1 set; with client_no_context_takeover the compressed
 * payload depends only on the message, so it is computed once per distinct message and
 * cached. Echoes with RSV1 are inflated (streaming, output capped at the expected size).
 *
 * Output: diagnostics on stderr; the result as one line "result {json}" on stdout.
 * Build: cc -O2 -Wall -Wextra -o loadgen loadgen.c -lz   (zlib.h: apt-get install zlib1g-dev)
 */
#define _GNU_SOURCE
#define ZLIB_CONST
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* ------------------------------------------------------------------------------------------ */
/* Limits. Every buffer below is sized from these; every loop is bounded by them or a clock.  */

#define NMSG_MAX 509u          /* distinct message contents at most */
#define CONTENT_BUDGET (32u << 20) /* bytes of distinct contents, unless 2K+1 need more */
#define MAX_SIZE (4u << 20)    /* largest payload */
#define MAX_CONNS 200000u
#define MAX_INFLIGHT 256u      /* < nmsg: a reordering within the window changes the bytes */
#define MAX_SRC 64u            /* source addresses */
#define MAX_ROUNDS 1000u
#define INBUF_CAP (256u << 10) /* one read() */
#define OUT_BATCH (128u << 10) /* frames built before one write() */
#define ZOUT_CAP (64u << 10)   /* inflate output chunk */
#define HS_CAP 4096u           /* handshake response */
#define MAX_PEND (64u << 20)   /* unwritten bytes per connection before we call it an error */
#define EXT_CAP 256u
#define HIST_BUCKETS (128u + 57u * 64u)

static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* ------------------------------------------------------------------------------------------ */
/* Configuration                                                                              */

enum mode { M_THROUGHPUT, M_LATENCY, M_IDLE, M_BROADCAST };
enum deflate_mode { D_OFF, D_NCTX, D_CTX };

static struct {
  char host[64];
  unsigned port;
  char path[128];
  enum mode mode;
  enum deflate_mode deflate;
  unsigned conns;
  size_t size;
  unsigned inflight;
  double duration, warmup, drain_timeout, close_timeout, connect_timeout, hold;
  unsigned connect_concurrency;
  unsigned rounds, warmup_rounds;
  double round_timeout, round_gap;
  int text;
  long server_pid;
  double max_seconds;
  struct in_addr src[MAX_SRC];
  unsigned nsrc;
  struct in_addr dst;
} cfg = {
    .host = "127.0.0.1",
    .port = 0,
    .path = "/",
    .mode = M_THROUGHPUT,
    .deflate = D_OFF,
    .conns = 1,
    .size = 16,
    .inflight = 16,
    .duration = 5,
    .warmup = 1,
    .drain_timeout = 5,
    .close_timeout = 3,
    .connect_timeout = 60,
    .hold = 60,
    .connect_concurrency = 256,
    .rounds = 20,
    .warmup_rounds = 3,
    .round_timeout = 10,
    .round_gap = 0.02,
    .text = 0,
    .server_pid = 0,
    .max_seconds = 600,
};

/* ------------------------------------------------------------------------------------------ */
/* Small utilities                                                                            */

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("loadgen: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(2);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) die("out of memory (%zu bytes)", n);
  return p;
}

static void *xcalloc(size_t n, size_t k) {
  void *p = calloc(n ? n : 1, k ? k : 1);
  if (!p) die("out of memory (%zu x %zu bytes)", n, k);
  return p;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t sec_to_ns(double s) { return (uint64_t)(s * 1e9); }

/* xorshift64*: masking keys and the pattern text. Not cryptographic; it does not need to be. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) {
  uint64_t x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

static double cpu_seconds_self(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         (double)ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime of another process from /proc/<pid>/stat, or -1. */
static double cpu_seconds_pid(long pid) {
  if (pid <= 0) return -1;
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
  if (!p) return -1;
  /* after ") " come fields 3.. ; utime and stime are fields 14 and 15 */
  unsigned long long ut = 0, stt = 0;
  int field = 2;
  for (char *s = p + 1; *s && field < 15;) {
    while (*s == ' ') s++;
    field++;
    if (field == 14) ut = strtoull(s, NULL, 10);
    if (field == 15) stt = strtoull(s, NULL, 10);
    while (*s && *s != ' ') s++;
  }
  long hz = sysconf(_SC_CLK_TCK);
  return hz > 0 ? (double)(ut + stt) / (double)hz : -1;
}

/* Seconds a process's main thread spent runnable but waiting for a CPU, from
 * /proc/<pid>/schedstat (field 2, ns), or -1. On a shared machine this tells whether a slow
 * number came from the implementation or from a neighbour holding the core. */
static double runq_wait_seconds(long pid) {
  char path[64];
  if (pid > 0)
    snprintf(path, sizeof path, "/proc/%ld/schedstat", pid);
  else
    snprintf(path, sizeof path, "/proc/self/schedstat");
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  unsigned long long run = 0, wait = 0;
  int n = fscanf(f, "%llu %llu", &run, &wait);
  fclose(f);
  return n == 2 ? (double)wait / 1e9 : -1;
}

/* ------------------------------------------------------------------------------------------ */
/* SHA-1 (FIPS 180-4) and base64, for Sec-WebSocket-Key / Sec-WebSocket-Accept only.          */

static uint32_t rol32(uint32_t x, unsigned k) { return (x << k) | (x >> (32 - k)); }

static void sha1_block(uint32_t h[5], const uint8_t *p) {
  uint32_t w[80];
  for (unsigned i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (unsigned i = 16; i < 80; i++) w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (unsigned i = 0; i < 80; i++) {
    uint32_t f, k;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999u;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1u;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDCu;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6u;
    }
    uint32_t t = rol32(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = rol32(b, 30);
    b = a;
    a = t;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

static void sha1(const uint8_t *msg, size_t len, uint8_t out[20]) {
  uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
  size_t full = len / 64;
  for (size_t i = 0; i < full; i++) sha1_block(h, msg + 64 * i);
  uint8_t tail[128];
  size_t rest = len - full * 64;
  memset(tail, 0, sizeof tail);
  memcpy(tail, msg + full * 64, rest);
  tail[rest] = 0x80;
  size_t tl = rest + 9 <= 64 ? 64 : 128;
  uint64_t bits = (uint64_t)len * 8;
  for (unsigned i = 0; i < 8; i++) tail[tl - 1 - i] = (uint8_t)(bits >> (8 * i));
  sha1_block(h, tail);
  if (tl == 128) sha1_block(h, tail + 64);
  for (unsigned i = 0; i < 5; i++) {
    out[4 * i] = (uint8_t)(h[i] >> 24);
    out[4 * i + 1] = (uint8_t)(h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(h[i] >> 8);
    out[4 * i + 3] = (uint8_t)h[i];
  }
}

/* out must hold 4*ceil(n/3)+1 bytes */
static void base64(const uint8_t *in, size_t n, char *out) {
  static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
    if (i + 2 < n) v |= in[i + 2];
    out[o++] = tbl[(v >> 18) & 63];
    out[o++] = tbl[(v >> 12) & 63];
    out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? tbl[v & 63] : '=';
  }
  out[o] = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Latency histogram: exact below 128 ns, then 64 sub-buckets per power of two (~1.6%).       */

struct hist {
  uint64_t count, sum, min, max;
  uint64_t b[HIST_BUCKETS];
};

static unsigned hist_index(uint64_t v) {
  if (v < 128) return (unsigned)v;
  unsigned msb = 63u - (unsigned)__builtin_clzll(v); /* >= 7 */
  if (msb > 63u - 1u) msb = 62u;
  unsigned idx = 128u + (msb - 7u) * 64u + (unsigned)((v >> (msb - 6u)) & 63u);
  return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1u;
}

/* midpoint of a bucket, in ns */
static double hist_value(unsigned idx) {
  if (idx < 128) return idx;
  unsigned msb = (idx - 128u) / 64u + 7u, sub = (idx - 128u) % 64u;
  double lo = (double)(1ull << msb) + (double)sub * (double)(1ull << (msb - 6u));
  return lo + (double)(1ull << (msb - 6u)) / 2.0;
}

static void hist_add(struct hist *h, uint64_t v) {
  if (h->count == 0 || v < h->min) h->min = v;
  if (v > h->max) h->max = v;
  h->count++;
  h->sum += v;
  h->b[hist_index(v)]++;
}

/* value (ns) at percentile p in [0,100] */
static double hist_pct(const struct hist *h, double p) {
  if (h->count == 0) return 0;
  if (p <= 0) return (double)h->min;
  if (p >= 100) return (double)h->max;
  uint64_t rank = (uint64_t)((p / 100.0) * (double)h->count);
  if (rank >= h->count) rank = h->count - 1;
  uint64_t seen = 0;
  for (unsigned i = 0; i < HIST_BUCKETS; i++) {
    seen += h->b[i];
    if (seen > rank) {
      double v = hist_value(i);
      if (v < (double)h->min) v = (double)h->min;
      if (v > (double)h->max) v = (double)h->max;
      return v;
    }
  }
  return (double)h->max;
}

/* ------------------------------------------------------------------------------------------ */
/* Message contents                                                                           */

static uint8_t *pattern; /* nmsg contents of cfg.size bytes each, printable ASCII (valid UTF-8) */
static size_t pattern_len;
static uint32_t nmsg;

/* nmsg independently generated messages of JSON-ish text: each compresses like real traffic
 * (a few x), and consecutive messages do not overlap, so permessage-deflate with context
 * takeover cannot just point back at the previous message. */
static void make_pattern(void) {
  static const char *words[] = {
      "{\"id\":",  "\"price\":", "\"qty\":",  "\"side\":\"buy\"", "\"side\":\"sell\"", "\"sym\":\"",
      "BTC",       "ETH",        "EUR",       "USD",              "true",               "false",
      "null",      "},",         "[",         "]",                "\"ts\":",            "\"user\":\"",
      "alice",     "bob",        "carol",     "\"msg\":\"",       "hello",              "world",
      "update",    "delete",     "insert",    "\",",              ", ",                 " ",
  };
  const unsigned nwords = sizeof words / sizeof words[0];
  size_t by_budget = cfg.size ? CONTENT_BUDGET / cfg.size : NMSG_MAX;
  nmsg = by_budget < NMSG_MAX ? (uint32_t)by_budget : NMSG_MAX;
  if (nmsg < 2 * cfg.inflight + 1) nmsg = 2 * cfg.inflight + 1; /* <= 2*MAX_INFLIGHT+1 */
  pattern_len = (size_t)nmsg * cfg.size + 1;
  pattern = xmalloc(pattern_len);
  size_t i = 0;
  while (i < pattern_len) {
    uint64_t r = rng();
    const char *w = NULL;
    char num[24];
    if ((r & 7) == 0) {
      snprintf(num, sizeof num, "%u", (unsigned)((r >> 8) % 100000u));
      w = num;
    } else {
      w = words[(r >> 3) % nwords];
    }
    for (const char *s = w; *s && i < pattern_len; s++) pattern[i++] = (uint8_t)*s;
  }
}

/* Content index of message `seq` on connection `conn`: consecutive messages differ, and a
 * message delivered out of order by less than nmsg (> 2 * inflight) compares unequal. */
static uint32_t msg_idx(uint32_t conn, uint64_t seq) { return (uint32_t)((seq + (uint64_t)conn * 31u) % nmsg); }

static const uint8_t *msg_bytes(uint32_t idx) { return pattern + (size_t)idx * cfg.size; }

/* ------------------------------------------------------------------------------------------ */
/* State                                                                                      */

enum cstate { CS_IDLE, CS_CONNECTING, CS_HANDSHAKE, CS_OPEN, CS_CLOSING, CS_CLOSED };

struct rx {
  uint8_t hdr[14];
  unsigned hdr_have;
  int in_payload;      /* header parsed, payload bytes pending */
  uint64_t remaining;  /* payload bytes left in this frame */
  unsigned opcode, fin;
  int msg_active;      /* a data message has started and not yet ended */
  unsigned msg_opcode; /* 1 text, 2 binary */
  int msg_compressed;
  int msg_bad;
  uint64_t msg_pos;    /* (inflated) bytes of this message compared so far */
  uint32_t msg_idx;    /* expected content */
  uint8_t ctl[125];
  unsigned ctl_len;
};

struct conn {
  int fd;
  enum cstate state;
  uint32_t id;
  int out_armed;       /* EPOLLOUT registered */
  uint64_t t_connect;  /* connect() time, for the handshake latency */
  char *hs;            /* handshake response buffer (freed once open) */
  size_t hs_len;
  char accept[32];     /* expected Sec-WebSocket-Accept */
  int tx_nctx;         /* client_no_context_takeover negotiated */
  uint64_t sent_seq, recv_seq;
  uint32_t owed;       /* messages to send as soon as the socket takes them */
  uint64_t *ts;        /* send times, ring of cfg.inflight entries */
  uint8_t *pend;       /* bytes the kernel has not taken yet */
  size_t pend_len, pend_off, pend_cap;
  int64_t bcast_seen;  /* last broadcast round received */
  z_stream *inf, *def;
  struct rx rx;
};

enum phase { PH_CONNECT, PH_WARMUP, PH_MEASURE, PH_DRAIN, PH_HOLD, PH_BCAST, PH_CLOSE, PH_DONE };

static struct conn *conns;
static int ep = -1;
static enum phase phase = PH_CONNECT;
static uint8_t *inbuf, *outbuf, *zout, *zbuf;
static size_t outbuf_cap, zbuf_cap;
static char negotiated[EXT_CAP] = "";

static struct {
  uint64_t sent, verified, msgs_window, wire_rx, wire_tx, rx_compressed, rx_msgs;
  uint64_t outstanding; /* sent and not yet echoed, echo modes */
  uint64_t t_progress;  /* last time an echo completed */
  unsigned opened, connect_done, connecting, n_open, clean_closes, unclean_closes;
  struct {
    uint64_t connect, handshake, mismatch, protocol, unexpected_close, eof, io, lost, bcast_missing;
  } err;
  struct hist rtt, hs;
  uint64_t t_start, t_open_first, t_open_last, t_win0, t_win1;
  double cpu_win0, cpu_win1, srv_win0, srv_win1;
  double wait_win0, wait_win1, srv_wait0, srv_wait1;
  uint64_t win_rx0, win_rx1, win_tx0, win_tx1;
} st;

/* broadcast */
static struct {
  unsigned round;          /* current round */
  int active;              /* waiting for deliveries */
  uint64_t t_send, t_next; /* send time, time to start the next round */
  unsigned got;
  uint64_t *arrivals;      /* ns after t_send, one per receiver */
  double all_ms[MAX_ROUNDS], first_ms[MAX_ROUNDS], p50_ms[MAX_ROUNDS], cpu_ms[MAX_ROUNDS];
  unsigned recorded;
  double cpu0;
} bc;

/* ------------------------------------------------------------------------------------------ */
/* Deflate                                                                                    */

static struct {
  uint8_t *p;
  size_t n;
} tx_cache[2 * MAX_INFLIGHT + 1 > NMSG_MAX ? 2 * MAX_INFLIGHT + 1 : NMSG_MAX];
static z_stream tx_shared; /* for the cache: reset before each message */
static int tx_shared_init;

static void deflate_init(z_stream *z) {
  memset(z, 0, sizeof *z);
  /* level 1: the client's compression cost should be small; any valid stream is fine for the
   * server. Window 15 (we did not offer client_max_window_bits, so the server inflates with
   * a 32 KiB window). */
  if (deflateInit2(z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) die("deflateInit2 failed");
}

/* Raw-deflate `len` bytes with a sync flush into zbuf, strip 00 00 FF FF; returns the size. */
static size_t compress_msg(z_stream *z, const uint8_t *src, size_t len) {
  size_t bound = deflateBound(z, len) + 64;
  if (bound > zbuf_cap) die("internal: compression buffer too small");
  z->next_in = src;
  z->avail_in = (uInt)len;
  z->next_out = zbuf;
  z->avail_out = (uInt)zbuf_cap;
  int rc = deflate(z, Z_SYNC_FLUSH);
  if (rc != Z_OK || z->avail_in != 0 || z->avail_out == 0) die("deflate failed (%d)", rc);
  size_t n = zbuf_cap - z->avail_out;
  if (n < 4 || memcmp(zbuf + n - 4, "\x00\x00\xff\xff", 4) != 0) die("deflate output lacks the sync-flush tail");
  return n - 4;
}

/* The compressed form of message content `idx` for a no-context-takeover sender. */
static const uint8_t *cached_compressed(uint32_t idx, size_t *n) {
  if (!tx_cache[idx].p) {
    if (!tx_shared_init) {
      deflate_init(&tx_shared);
      tx_shared_init = 1;
    }
    deflateReset(&tx_shared);
    size_t k = compress_msg(&tx_shared, msg_bytes(idx), cfg.size);
    tx_cache[idx].p = xmalloc(k);
    memcpy(tx_cache[idx].p, zbuf, k);
    tx_cache[idx].n = k;
  }
  *n = tx_cache[idx].n;
  return tx_cache[idx].p;
}

/* ------------------------------------------------------------------------------------------ */
/* Frames                                                                                     */

static size_t frame_header_len(size_t len) { return 2 + (len < 126 ? 0 : len <= 0xFFFF ? 2 : 8) + 4; }

/* Write a masked client frame to out (which holds frame_header_len(len) + len bytes). */
static size_t build_frame(uint8_t *out, unsigned opcode, int rsv1, const uint8_t *payload, size_t len) {
  size_t o = 0;
  out[o++] = (uint8_t)(0x80u | (rsv1 ? 0x40u : 0u) | (opcode & 0x0Fu));
  if (len < 126) {
    out[o++] = (uint8_t)(0x80u | len);
  } else if (len <= 0xFFFF) {
    out[o++] = 0x80u | 126u;
    out[o++] = (uint8_t)(len >> 8);
    out[o++] = (uint8_t)len;
  } else {
    out[o++] = 0x80u | 127u;
    for (int i = 7; i >= 0; i--) out[o++] = (uint8_t)((uint64_t)len >> (8 * i));
  }
  uint32_t key32 = (uint32_t)rng();
  uint8_t key[4];
  memcpy(key, &key32, 4);
  memcpy(out + o, key, 4);
  o += 4;
  /* XOR 8 bytes at a time with the key repeated twice; memcpy keeps it free of aliasing and
   * alignment UB and compiles to plain loads/stores. */
  uint64_t k8;
  uint8_t kk[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
  memcpy(&k8, kk, 8);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t v;
    memcpy(&v, payload + i, 8);
    v ^= k8;
    memcpy(out + o + i, &v, 8);
  }
  for (; i < len; i++) out[o + i] = payload[i] ^ key[i & 3];
  return o + len;
}

/* ------------------------------------------------------------------------------------------ */
/* Connection I/O                                                                             */

static void conn_close(struct conn *c);

static void conn_events(struct conn *c, int want_out) {
  if (c->fd < 0 || c->out_armed == want_out) return;
  struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0u), .data.u32 = c->id};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) die("epoll_ctl MOD: %s", strerror(errno));
  c->out_armed = want_out;
}

static int pend_append(struct conn *c, const uint8_t *p, size_t n) {
  size_t live = c->pend_len - c->pend_off;
  if (live + n > MAX_PEND) return -1;
  if (c->pend_off > 0) { /* compact */
    memmove(c->pend, c->pend + c->pend_off, live);
    c->pend_off = 0;
    c->pend_len = live;
  }
  if (c->pend_len + n > c->pend_cap) {
    size_t cap = c->pend_cap ? c->pend_cap : 4096;
    while (cap < c->pend_len + n) cap *= 2;
    uint8_t *np = realloc(c->pend, cap);
    if (!np) die("out of memory");
    c->pend = np;
    c->pend_cap = cap;
  }
  memcpy(c->pend + c->pend_len, p, n);
  c->pend_len += n;
  return 0;
}

/* Send bytes after anything already pending; keep the rest for EPOLLOUT. 0 or -1 (closed). */
static int conn_send(struct conn *c, const uint8_t *p, size_t n) {
  if (c->pend_len > c->pend_off) {
    if (pend_append(c, p, n) != 0) {
      st.err.io++;
      conn_close(c);
      return -1;
    }
    return 0;
  }
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(c->fd, p + done, n - done);
    if (w > 0) {
      done += (size_t)w;
      st.wire_tx += (uint64_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    st.err.io++;
    conn_close(c);
    return -1;
  }
  if (done < n) {
    if (pend_append(c, p + done, n - done) != 0) {
      st.err.io++;
      conn_close(c);
      return -1;
    }
    conn_events(c, 1);
  }
  return 0;
}

/* Write pending bytes; 1 if all flushed, 0 if the socket is full, -1 if closed. */
static int conn_flush_pending(struct conn *c) {
  while (c->pend_off < c->pend_len) {
    ssize_t w = write(c->fd, c->pend + c->pend_off, c->pend_len - c->pend_off);
    if (w > 0) {
      c->pend_off += (size_t)w;
      st.wire_tx += (uint64_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      conn_events(c, 1);
      return 0;
    }
    st.err.io++;
    conn_close(c);
    return -1;
  }
  c->pend_off = c->pend_len = 0;
  conn_events(c, 0);
  return 1;
}

static int sending_phase(void) { return phase == PH_WARMUP || phase == PH_MEASURE; }

/* Build the frame of one data message with content `idx` into out; returns its size. */
static size_t build_message(struct conn *c, uint8_t *out, uint32_t idx) {
  unsigned op = cfg.text ? 1u : 2u;
  if (cfg.deflate == D_OFF) return build_frame(out, op, 0, msg_bytes(idx), cfg.size);
  size_t n;
  const uint8_t *z;
  if (c->tx_nctx) {
    z = cached_compressed(idx, &n);
  } else {
    if (!c->def) {
      c->def = xmalloc(sizeof *c->def);
      deflate_init(c->def);
    }
    n = compress_msg(c->def, msg_bytes(idx), cfg.size);
    z = zbuf;
  }
  return build_frame(out, op, 1, z, n);
}

/* Send the messages this connection owes, in batches of about OUT_BATCH bytes. */
static void conn_pump(struct conn *c) {
  if (c->state != CS_OPEN) return;
  if (c->pend_off < c->pend_len && conn_flush_pending(c) != 1) return;
  size_t frame_max = frame_header_len(zbuf_cap) + zbuf_cap;
  for (unsigned guard = 0; c->owed > 0 && guard < 1u << 20; guard++) {
    size_t used = 0;
    uint64_t t = now_ns();
    while (c->owed > 0 && (used == 0 || used + frame_max <= outbuf_cap)) {
      used += build_message(c, outbuf + used, msg_idx(c->id, c->sent_seq));
      c->ts[c->sent_seq % cfg.inflight] = t;
      c->sent_seq++;
      c->owed--;
      st.sent++;
      st.outstanding++;
    }
    if (conn_send(c, outbuf, used) != 0) return;
    if (c->pend_off < c->pend_len) return; /* socket full: EPOLLOUT resumes */
  }
}

static void send_control(struct conn *c, unsigned op, const uint8_t *p, size_t n) {
  uint8_t f[2 + 4 + 125];
  if (n > 125) n = 125;
  size_t k = build_frame(f, op, 0, p, n);
  conn_send(c, f, k);
}

static void start_close(struct conn *c) {
  if (c->state != CS_OPEN) return;
  static const uint8_t code[2] = {0x03, 0xE8}; /* 1000 */
  c->state = CS_CLOSING;
  send_control(c, 8, code, 2);
}

/* ------------------------------------------------------------------------------------------ */
/* Receiving                                                                                  */

static void verify_bytes(struct conn *c, const uint8_t *d, size_t k) {
  struct rx *r = &c->rx;
  if (!r->msg_bad) {
    if (r->msg_pos + k > cfg.size)
      r->msg_bad = 1; /* longer than what was sent */
    else if (memcmp(d, msg_bytes(r->msg_idx) + r->msg_pos, k) != 0)
      r->msg_bad = 1;
  }
  r->msg_pos += k;
}

/* Inflate k bytes of a compressed message and compare the output; -1 on corrupt data or an
 * output larger than the message that was sent (so a bad stream cannot make us spin). */
static int inflate_bytes(struct conn *c, const uint8_t *d, size_t k, int trailer) {
  if (!c->inf) {
    c->inf = xcalloc(1, sizeof *c->inf);
    if (inflateInit2(c->inf, -15) != Z_OK) die("inflateInit2 failed");
  }
  z_stream *z = c->inf;
  z->next_in = d;
  z->avail_in = (uInt)k;
  for (unsigned guard = 0; guard < 1u << 16; guard++) {
    z->next_out = zout;
    z->avail_out = ZOUT_CAP;
    int rc = inflate(z, Z_SYNC_FLUSH);
    size_t got = ZOUT_CAP - z->avail_out;
    if (got) verify_bytes(c, zout, got);
    if (c->rx.msg_pos > cfg.size) return -1;
    if (rc == Z_STREAM_END) { /* the sender ended the stream with BFINAL: start a new one */
      inflateReset(z);
      if (trailer) return 0;
      if (z->avail_in == 0) return 0;
      continue;
    }
    if (rc == Z_BUF_ERROR) return 0; /* needs more input */
    if (rc != Z_OK) return -1;
    if (z->avail_in == 0 && z->avail_out != 0) return 0;
  }
  return -1;
}

static void bcast_delivery(struct conn *c, uint64_t now, int ok);

/* A complete data message arrived. */
static void on_message(struct conn *c, uint64_t now) {
  struct rx *r = &c->rx;
  unsigned want_op = cfg.text ? 1u : 2u;
  int ok = !r->msg_bad && r->msg_pos == cfg.size && r->msg_opcode == want_op;
  st.rx_msgs++;
  if (r->msg_compressed) st.rx_compressed++;
  if (cfg.mode == M_BROADCAST) {
    bcast_delivery(c, now, ok);
    return;
  }
  if (c->recv_seq >= c->sent_seq) { /* an echo of nothing */
    st.err.mismatch++;
    return;
  }
  if (ok) {
    st.verified++;
    if (phase == PH_MEASURE) {
      uint64_t t0 = c->ts[c->recv_seq % cfg.inflight];
      hist_add(&st.rtt, now > t0 ? now - t0 : 0);
      st.msgs_window++;
    }
  } else {
    st.err.mismatch++;
  }
  c->recv_seq++;
  st.t_progress = now;
  if (st.outstanding) st.outstanding--;
  if (sending_phase()) c->owed++;
}

static void protocol_error(struct conn *c) {
  st.err.protocol++;
  conn_close(c);
}

static size_t hdr_need(const struct rx *r) {
  if (r->hdr_have < 2) return 2;
  unsigned l7 = r->hdr[1] & 127u;
  return 2u + (l7 == 126 ? 2u : l7 == 127 ? 8u : 0u) + ((r->hdr[1] & 0x80u) ? 4u : 0u);
}

/* The header in r->hdr is complete: check it against RFC 6455/7692 and start the frame.
 * Returns -1 on a protocol violation. */
static int frame_start(struct conn *c) {
  struct rx *r = &c->rx;
  unsigned b0 = r->hdr[0], b1 = r->hdr[1];
  unsigned fin = b0 >> 7, rsv1 = (b0 >> 6) & 1u, rsv23 = (b0 >> 4) & 3u, op = b0 & 15u;
  if (b1 & 0x80u) return -1; /* servers must not mask */
  if (rsv23) return -1;
  uint64_t len = b1 & 127u;
  if (len == 126) {
    len = (uint64_t)r->hdr[2] << 8 | r->hdr[3];
    if (len < 126) return -1; /* not minimal; RFC 6455 5.2 */
  } else if (len == 127) {
    len = 0;
    for (unsigned i = 0; i < 8; i++) len = len << 8 | r->hdr[2 + i];
    if (len >> 63) return -1;
    if (len <= 0xFFFF) return -1;
  }
  if (op >= 8) {
    if (!fin || len > 125 || rsv1 || (op != 8 && op != 9 && op != 10)) return -1;
    r->ctl_len = 0;
  } else if (op == 0) {
    if (!r->msg_active || rsv1) return -1;
  } else if (op == 1 || op == 2) {
    if (r->msg_active) return -1;
    if (rsv1 && cfg.deflate == D_OFF) return -1;
    r->msg_active = 1;
    r->msg_opcode = op;
    r->msg_compressed = (int)rsv1;
    r->msg_bad = 0;
    r->msg_pos = 0;
    r->msg_idx = cfg.mode == M_BROADCAST ? msg_idx(0, bc.round) : msg_idx(c->id, c->recv_seq);
  } else {
    return -1;
  }
  r->opcode = op;
  r->fin = fin;
  r->remaining = len;
  r->in_payload = 1;
  return 0;
}

/* The frame's payload is complete. Returns -1 if the connection was closed. */
static int frame_end(struct conn *c, uint64_t now) {
  struct rx *r = &c->rx;
  r->in_payload = 0;
  r->hdr_have = 0;
  if (r->opcode == 9) { /* ping: answer with the same payload */
    send_control(c, 10, r->ctl, r->ctl_len);
    return c->fd < 0 ? -1 : 0;
  }
  if (r->opcode == 10) return 0; /* unsolicited pong */
  if (r->opcode == 8) {
    if (c->state == CS_CLOSING) {
      st.clean_closes++;
    } else {
      st.err.unexpected_close++;
      unsigned code = r->ctl_len >= 2 ? (unsigned)r->ctl[0] << 8 | r->ctl[1] : 1005u;
      fprintf(stderr, "loadgen: connection %u closed by the server (code %u)\n", c->id, code);
      uint8_t echo[2] = {r->ctl_len >= 2 ? r->ctl[0] : 0x03, r->ctl_len >= 2 ? r->ctl[1] : 0xE8};
      send_control(c, 8, echo, 2);
    }
    conn_close(c);
    return -1;
  }
  if (!r->fin) return 0;
  if (r->msg_compressed && inflate_bytes(c, (const uint8_t *)"\x00\x00\xff\xff", 4, 1) != 0) {
    protocol_error(c);
    return -1;
  }
  r->msg_active = 0;
  on_message(c, now);
  return c->fd < 0 ? -1 : 0;
}

/* Feed received bytes through the streaming frame reader. -1 if the connection was closed. */
static int rx_feed(struct conn *c, const uint8_t *p, size_t n, uint64_t now) {
  struct rx *r = &c->rx;
  while (n > 0) {
    if (!r->in_payload) {
      for (;;) {
        size_t need = hdr_need(r);
        if (r->hdr_have >= need) break;
        if (n == 0) return 0;
        size_t k = need - r->hdr_have;
        if (k > n) k = n;
        memcpy(r->hdr + r->hdr_have, p, k);
        r->hdr_have += (unsigned)k;
        p += k;
        n -= k;
      }
      if (frame_start(c) != 0) {
        protocol_error(c);
        return -1;
      }
      if (r->remaining == 0) {
        if (frame_end(c, now) != 0) return -1;
        continue;
      }
    }
    size_t take = r->remaining < n ? (size_t)r->remaining : n;
    if (r->opcode >= 8) {
      memcpy(r->ctl + r->ctl_len, p, take); /* len <= 125 checked in frame_start */
      r->ctl_len += (unsigned)take;
    } else if (r->msg_compressed) {
      if (inflate_bytes(c, p, take, 0) != 0) {
        protocol_error(c);
        return -1;
      }
    } else {
      verify_bytes(c, p, take);
    }
    r->remaining -= take;
    p += take;
    n -= take;
    if (r->remaining == 0 && frame_end(c, now) != 0) return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Handshake                                                                                  */

static void conn_opened(struct conn *c, uint64_t now);

static void send_handshake(struct conn *c) {
  uint8_t raw[16];
  for (unsigned i = 0; i < 16; i += 8) {
    uint64_t r = rng();
    memcpy(raw + i, &r, 8);
  }
  char key[32];
  base64(raw, 16, key);
  char cat[96];
  int cl = snprintf(cat, sizeof cat, "%s%s", key, WS_GUID);
  uint8_t dig[20];
  sha1((const uint8_t *)cat, (size_t)cl, dig);
  base64(dig, 20, c->accept);
  const char *ext = cfg.deflate == D_NCTX  ? "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; "
                                             "server_no_context_takeover\r\n"
                    : cfg.deflate == D_CTX ? "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                                           : "";
  char req[512];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                   cfg.path, cfg.host, cfg.port, key, ext);
  if (n <= 0 || (size_t)n >= sizeof req) die("handshake request too long");
  c->state = CS_HANDSHAKE;
  c->hs = xmalloc(HS_CAP + 1);
  c->hs_len = 0;
  conn_events(c, 0);
  conn_send(c, (const uint8_t *)req, (size_t)n);
}

static void trim(const char **s, const char **e) {
  while (*s < *e && (**s == ' ' || **s == '\t')) (*s)++;
  while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t')) (*e)--;
}

static int token_eq(const char *s, const char *e, const char *lit) {
  size_t n = strlen(lit);
  return (size_t)(e - s) == n && strncasecmp(s, lit, n) == 0;
}

/* Check a Sec-WebSocket-Extensions response value against what we offered. */
static int check_extensions(struct conn *c, const char *s, const char *e) {
  if (cfg.deflate == D_OFF) return s == e ? 0 : -1;
  if (memchr(s, ',', (size_t)(e - s))) return -1; /* one extension only */
  int first = 1;
  while (s < e) {
    const char *semi = memchr(s, ';', (size_t)(e - s));
    const char *te = semi ? semi : e, *ts = s;
    trim(&ts, &te);
    if (first) {
      if (!token_eq(ts, te, "permessage-deflate")) return -1;
      first = 0;
    } else if (token_eq(ts, te, "client_no_context_takeover")) {
      c->tx_nctx = 1;
    } else if (token_eq(ts, te, "server_no_context_takeover")) {
      /* informational: our inflater keeps its window either way */
    } else if ((size_t)(te - ts) > 22 && strncasecmp(ts, "server_max_window_bits", 22) == 0) {
      /* fine: we inflate with a 32 KiB window, enough for any value */
    } else {
      return -1; /* client_max_window_bits was not offered; anything else is unknown */
    }
    s = semi ? semi + 1 : e;
  }
  return first ? -1 : 0;
}

/* Parse the response in c->hs; 1 = open, 0 = need more, -1 = failed. */
static int handshake_parse(struct conn *c, uint64_t now) {
  char *end = memmem(c->hs, c->hs_len, "\r\n\r\n", 4);
  if (!end) return c->hs_len >= HS_CAP ? -1 : 0;
  size_t head = (size_t)(end - c->hs) + 4;
  const char *p = c->hs, *stop = end + 2;
  const char *eol = memmem(p, (size_t)(stop - p), "\r\n", 2);
  if (!eol || (size_t)(eol - p) < 12 || memcmp(p, "HTTP/1.1 101", 12) != 0) return -1;
  int up = 0, conn_up = 0, acc = 0, ext_seen = 0;
  for (p = eol + 2; p < end;) {
    eol = memmem(p, (size_t)(stop - p), "\r\n", 2);
    if (!eol) return -1;
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    if (!colon) return -1;
    const char *ns = p, *ne = colon, *vs = colon + 1, *ve = eol;
    trim(&ns, &ne);
    trim(&vs, &ve);
    if (token_eq(ns, ne, "upgrade")) {
      up = token_eq(vs, ve, "websocket");
    } else if (token_eq(ns, ne, "connection")) {
      for (const char *t = vs; t + 7 <= ve; t++)
        if (strncasecmp(t, "upgrade", 7) == 0) conn_up = 1;
    } else if (token_eq(ns, ne, "sec-websocket-accept")) {
      acc = (size_t)(ve - vs) == strlen(c->accept) && memcmp(vs, c->accept, strlen(c->accept)) == 0;
    } else if (token_eq(ns, ne, "sec-websocket-extensions")) {
      if (ext_seen++ || check_extensions(c, vs, ve) != 0) return -1;
      if (!negotiated[0]) {
        size_t k = (size_t)(ve - vs) < EXT_CAP - 1 ? (size_t)(ve - vs) : EXT_CAP - 1;
        memcpy(negotiated, vs, k);
        negotiated[k] = 0;
      }
    }
    p = eol + 2;
  }
  if (!up || !conn_up || !acc) return -1;
  if (cfg.deflate != D_OFF && !ext_seen) return -1; /* the benchmark needs the extension */
  size_t extra = c->hs_len - head;
  uint8_t tmp[HS_CAP];
  memcpy(tmp, c->hs + head, extra);
  free(c->hs);
  c->hs = NULL;
  conn_opened(c, now);
  if (extra && rx_feed(c, tmp, extra, now) != 0) return -1;
  return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Connection lifecycle                                                                       */

static unsigned next_to_open;

static void conn_close(struct conn *c) {
  if (c->fd < 0) return;
  int was_open = c->state == CS_OPEN || c->state == CS_CLOSING;
  int was_pending = c->state == CS_CONNECTING || c->state == CS_HANDSHAKE;
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
  c->state = CS_CLOSED;
  free(c->hs);
  c->hs = NULL;
  free(c->pend);
  c->pend = NULL;
  c->pend_len = c->pend_off = c->pend_cap = 0;
  if (c->inf) {
    inflateEnd(c->inf);
    free(c->inf);
    c->inf = NULL;
  }
  if (c->def) {
    deflateEnd(c->def);
    free(c->def);
    c->def = NULL;
  }
  if (was_open && st.n_open) st.n_open--;
  if (was_pending) {
    if (st.connecting) st.connecting--;
    st.connect_done++;
  }
  /* echoes this connection still owed can never come */
  if (cfg.mode != M_BROADCAST && c->sent_seq > c->recv_seq) {
    uint64_t lost = c->sent_seq - c->recv_seq;
    st.err.lost += lost;
    st.outstanding = st.outstanding > lost ? st.outstanding - lost : 0;
    c->recv_seq = c->sent_seq;
  }
}

static void conn_opened(struct conn *c, uint64_t now) {
  c->state = CS_OPEN;
  st.opened++;
  st.n_open++;
  if (st.connecting) st.connecting--;
  st.connect_done++;
  hist_add(&st.hs, now - c->t_connect);
  if (st.opened == 1) st.t_open_first = now;
  st.t_open_last = now;
}

static void conn_start(struct conn *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  c->t_connect = now_ns();
  if (c->fd < 0) {
    fprintf(stderr, "loadgen: socket: %s\n", strerror(errno));
    st.err.connect++;
    st.connect_done++;
    c->state = CS_CLOSED;
    return;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg.port), .sin_addr = cfg.dst};
  if (cfg.nsrc) {
    /* choose the source port at connect() time, per destination, not at bind() time */
    setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = 0, .sin_addr = cfg.src[c->id % cfg.nsrc]};
    if (bind(c->fd, (struct sockaddr *)&src, sizeof src) != 0) {
      fprintf(stderr, "loadgen: bind: %s\n", strerror(errno));
      close(c->fd);
      c->fd = -1;
      st.err.connect++;
      st.connect_done++;
      c->state = CS_CLOSED;
      return;
    }
  }
  struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.u32 = c->id};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) die("epoll_ctl ADD: %s", strerror(errno));
  c->out_armed = 1;
  c->state = CS_CONNECTING;
  st.connecting++;
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
    send_handshake(c);
  } else if (errno != EINPROGRESS) {
    if (st.err.connect < 5) fprintf(stderr, "loadgen: connect: %s\n", strerror(errno));
    st.err.connect++;
    conn_close(c);
  }
}

static void on_event(struct conn *c, uint32_t events) {
  uint64_t now = now_ns();
  if (c->state == CS_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err) {
      if (st.err.connect < 5) fprintf(stderr, "loadgen: connect: %s\n", strerror(err));
      st.err.connect++;
      conn_close(c);
      return;
    }
    if (events & (EPOLLOUT | EPOLLIN)) send_handshake(c);
    return;
  }
  if ((events & EPOLLOUT) && c->pend_off < c->pend_len) {
    if (conn_flush_pending(c) < 0) return;
    if (c->pend_off >= c->pend_len) conn_pump(c);
    if (c->fd < 0) return;
  }
  if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
  if (c->state == CS_HANDSHAKE) {
    ssize_t r = read(c->fd, c->hs + c->hs_len, HS_CAP - c->hs_len);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (r <= 0) {
      st.err.handshake++;
      conn_close(c);
      return;
    }
    c->hs_len += (size_t)r;
    st.wire_rx += (uint64_t)r;
    int rc = handshake_parse(c, now);
    if (rc < 0) {
      if (st.err.handshake < 3 && c->hs) {
        c->hs[c->hs_len < HS_CAP ? c->hs_len : HS_CAP] = 0;
        fprintf(stderr, "loadgen: handshake failed:\n%s\n", c->hs);
      }
      if (c->state == CS_HANDSHAKE) st.err.handshake++;
      conn_close(c);
    } else if (rc > 0 && c->state == CS_OPEN && sending_phase()) {
      conn_pump(c);
    }
    return;
  }
  ssize_t r = read(c->fd, inbuf, INBUF_CAP);
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (r <= 0) {
    if (c->state == CS_CLOSING) {
      st.unclean_closes++; /* the server closed the TCP connection without its close frame */
    } else if (r == 0) {
      st.err.eof++;
    } else {
      st.err.io++;
    }
    conn_close(c);
    return;
  }
  st.wire_rx += (uint64_t)r;
  if (rx_feed(c, inbuf, (size_t)r, now) != 0) return;
  if (c->owed) conn_pump(c);
}

/* ------------------------------------------------------------------------------------------ */
/* Broadcast rounds                                                                           */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void bcast_finish_round(uint64_t now) {
  if (!bc.active) return;
  bc.active = 0;
  if (bc.got < st.n_open) st.err.bcast_missing += st.n_open - bc.got;
  if (bc.round >= cfg.warmup_rounds && bc.recorded < MAX_ROUNDS && bc.got > 0) {
    qsort(bc.arrivals, bc.got, sizeof *bc.arrivals, cmp_u64);
    unsigned i = bc.recorded++;
    bc.all_ms[i] = (double)bc.arrivals[bc.got - 1] / 1e6;
    bc.first_ms[i] = (double)bc.arrivals[0] / 1e6;
    bc.p50_ms[i] = (double)bc.arrivals[bc.got / 2] / 1e6;
    bc.cpu_ms[i] = (cpu_seconds_self() - bc.cpu0) * 1e3;
  }
  bc.round++;
  bc.t_next = now + sec_to_ns(cfg.round_gap);
}

static void bcast_delivery(struct conn *c, uint64_t now, int ok) {
  if (!bc.active || c->bcast_seen == (int64_t)bc.round || !ok) {
    st.err.mismatch++;
    return;
  }
  c->bcast_seen = (int64_t)bc.round;
  st.verified++;
  if (bc.got < cfg.conns) bc.arrivals[bc.got++] = now - bc.t_send;
  if (bc.got >= st.n_open) bcast_finish_round(now);
}

static void bcast_start_round(void) {
  struct conn *s = NULL;
  for (unsigned i = 0; i < cfg.conns && !s; i++) {
    struct conn *c = &conns[(bc.round + i) % cfg.conns];
    if (c->state == CS_OPEN) s = c;
  }
  if (!s) {
    bc.round = cfg.rounds;
    return;
  }
  uint8_t *f = outbuf;
  size_t n = build_message(s, f, msg_idx(0, bc.round));
  bc.got = 0;
  bc.active = 1;
  bc.cpu0 = cpu_seconds_self();
  bc.t_send = now_ns();
  st.sent++;
  conn_send(s, f, n);
}

/* ------------------------------------------------------------------------------------------ */
/* Output                                                                                     */

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      fprintf(f, "\\%c", ch);
    else if (ch < 0x20 || ch >= 0x7f)
      fprintf(f, "\\u%04x", ch);
    else
      fputc(ch, f);
  }
  fputc('"', f);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median_of(const double *v, unsigned n) {
  if (!n) return 0;
  double tmp[MAX_ROUNDS];
  memcpy(tmp, v, n * sizeof *v);
  qsort(tmp, n, sizeof *tmp, cmp_double);
  return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static void json_list(FILE *f, const double *v, unsigned n) {
  fputc('[', f);
  for (unsigned i = 0; i < n; i++) fprintf(f, "%s%.4f", i ? "," : "", v[i]);
  fputc(']', f);
}

static const char *mode_name(void) {
  static const char *n[] = {"throughput", "latency", "idle", "broadcast"};
  return n[cfg.mode];
}

static const char *deflate_name(void) {
  static const char *n[] = {"off", "nctx", "ctx"};
  return n[cfg.deflate];
}

static void print_result(void) {
  FILE *f = stdout;
  double win = st.t_win1 > st.t_win0 ? (double)(st.t_win1 - st.t_win0) / 1e9 : 0;
  double rate = win > 0 ? (double)st.msgs_window / win : 0;
  uint64_t errs = st.err.connect + st.err.handshake + st.err.mismatch + st.err.protocol + st.err.unexpected_close +
                  st.err.eof + st.err.io + st.err.lost + st.err.bcast_missing;
  fprintf(f, "result {\"mode\":\"%s\",\"deflate\":\"%s\",\"negotiated\":", mode_name(), deflate_name());
  json_str(f, negotiated);
  fprintf(f, ",\"conns\":%u,\"opened\":%u,\"size\":%zu,\"inflight\":%u,\"text\":%s", cfg.conns, st.opened, cfg.size,
          cfg.inflight, cfg.text ? "true" : "false");
  fprintf(f, ",\"open_ms\":%.3f,\"handshake_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
          st.opened ? (double)(st.t_open_last - st.t_start) / 1e6 : 0, hist_pct(&st.hs, 50) / 1e6,
          hist_pct(&st.hs, 99) / 1e6, (double)st.hs.max / 1e6);
  fprintf(f, ",\"window_s\":%.4f,\"msgs\":%" PRIu64 ",\"msgs_per_s\":%.1f,\"MBps\":%.3f", win, st.msgs_window, rate,
          rate * (double)cfg.size / 1e6);
  fprintf(f, ",\"wire_rx_MBps\":%.3f,\"wire_tx_MBps\":%.3f",
          win > 0 ? (double)(st.win_rx1 - st.win_rx0) / win / 1e6 : 0,
          win > 0 ? (double)(st.win_tx1 - st.win_tx0) / win / 1e6 : 0);
  const struct hist *h = &st.rtt;
  fprintf(f,
          ",\"rtt_us\":{\"n\":%" PRIu64
          ",\"mean\":%.3f,\"min\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}",
          h->count, h->count ? (double)h->sum / (double)h->count / 1e3 : 0, (double)h->min / 1e3, hist_pct(h, 50) / 1e3,
          hist_pct(h, 90) / 1e3, hist_pct(h, 99) / 1e3, hist_pct(h, 99.9) / 1e3, (double)h->max / 1e3);
  static const double cdf_p[] = {0,  1,  5,  10, 20, 30,   40, 50,   60,    70,     75,    80,
                                 85, 90, 95, 97, 98, 99, 99.5, 99.8, 99.9, 99.95, 99.99, 100};
  fputs(",\"cdf\":[", f);
  for (unsigned i = 0; i < sizeof cdf_p / sizeof cdf_p[0]; i++)
    fprintf(f, "%s[%g,%.3f]", i ? "," : "", cdf_p[i], hist_pct(h, cdf_p[i]) / 1e3);
  fputc(']', f);
  fprintf(f,
          ",\"sent\":%" PRIu64 ",\"verified\":%" PRIu64 ",\"rx_msgs\":%" PRIu64 ",\"rx_compressed\":%" PRIu64
          ",\"clean_closes\":%u,\"unclean_closes\":%u",
          st.sent, st.verified, st.rx_msgs, st.rx_compressed, st.clean_closes, st.unclean_closes);
  fprintf(f,
          ",\"errors\":{\"connect\":%" PRIu64 ",\"handshake\":%" PRIu64 ",\"mismatch\":%" PRIu64
          ",\"protocol\":%" PRIu64 ",\"unexpected_close\":%" PRIu64 ",\"eof\":%" PRIu64 ",\"io\":%" PRIu64
          ",\"lost\":%" PRIu64 ",\"bcast_missing\":%" PRIu64 "},\"error_total\":%" PRIu64,
          st.err.connect, st.err.handshake, st.err.mismatch, st.err.protocol, st.err.unexpected_close, st.err.eof,
          st.err.io, st.err.lost, st.err.bcast_missing, errs);
  fprintf(f, ",\"loadgen_cpu\":%.4f", win > 0 ? (st.cpu_win1 - st.cpu_win0) / win : 0);
  if (cfg.server_pid > 0 && st.srv_win0 >= 0 && st.srv_win1 >= 0 && win > 0)
    fprintf(f, ",\"server_cpu\":%.4f", (st.srv_win1 - st.srv_win0) / win);
  else
    fputs(",\"server_cpu\":null", f);
  /* fraction of the window spent runnable but not running (another process had the core) */
  if (st.wait_win0 >= 0 && st.wait_win1 >= 0 && win > 0)
    fprintf(f, ",\"loadgen_runq_wait\":%.4f", (st.wait_win1 - st.wait_win0) / win);
  else
    fputs(",\"loadgen_runq_wait\":null", f);
  if (st.srv_wait0 >= 0 && st.srv_wait1 >= 0 && win > 0)
    fprintf(f, ",\"server_runq_wait\":%.4f", (st.srv_wait1 - st.srv_wait0) / win);
  else
    fputs(",\"server_runq_wait\":null", f);
  if (cfg.mode == M_BROADCAST) {
    fprintf(f, ",\"broadcast\":{\"rounds\":%u,\"all_ms\":", bc.recorded);
    json_list(f, bc.all_ms, bc.recorded);
    fputs(",\"first_ms\":", f);
    json_list(f, bc.first_ms, bc.recorded);
    fputs(",\"p50_ms\":", f);
    json_list(f, bc.p50_ms, bc.recorded);
    fputs(",\"loadgen_cpu_ms\":", f);
    json_list(f, bc.cpu_ms, bc.recorded);
    fprintf(f, ",\"median_all_ms\":%.4f,\"median_first_ms\":%.4f,\"median_loadgen_cpu_ms\":%.4f}",
            median_of(bc.all_ms, bc.recorded), median_of(bc.first_ms, bc.recorded),
            median_of(bc.cpu_ms, bc.recorded));
  }
  fputs("}\n", f);
  fflush(f);
}

/* ------------------------------------------------------------------------------------------ */
/* Options                                                                                    */

static void usage(void) {
  fputs("usage: loadgen --port P [--host 127.0.0.1] [--mode throughput|latency|idle|broadcast]\n"
        "  [--conns N] [--size BYTES] [--inflight K] [--duration S] [--warmup S]\n"
        "  [--deflate off|nctx|ctx] [--text] [--src 127.0.0.2,127.0.0.3] [--connect-concurrency C]\n"
        "  [--connect-timeout S] [--hold S] [--rounds R] [--warmup-rounds W] [--round-timeout S]\n"
        "  [--server-pid PID] [--max-seconds S] [--path /]\n",
        stderr);
  exit(2);
}

static double parse_num(const char *s, double lo, double hi, const char *what) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= lo && v <= hi)) die("bad %s: %s (expected %g..%g)", what, s, lo, hi);
  return v;
}

static int loopback(struct in_addr a) { return (ntohl(a.s_addr) >> 24) == 127; }

static void parse_args(int argc, char **argv) {
  static const struct option opts[] = {
      {"host", 1, 0, 'h'},          {"port", 1, 0, 'p'},          {"mode", 1, 0, 'm'},
      {"conns", 1, 0, 'c'},         {"size", 1, 0, 's'},          {"inflight", 1, 0, 'k'},
      {"duration", 1, 0, 'd'},      {"warmup", 1, 0, 'w'},        {"deflate", 1, 0, 'z'},
      {"text", 0, 0, 't'},          {"src", 1, 0, 'S'},           {"connect-concurrency", 1, 0, 'C'},
      {"connect-timeout", 1, 0, 'T'}, {"hold", 1, 0, 'H'},        {"rounds", 1, 0, 'r'},
      {"warmup-rounds", 1, 0, 'W'}, {"round-timeout", 1, 0, 'R'}, {"server-pid", 1, 0, 'P'},
      {"max-seconds", 1, 0, 'X'},   {"path", 1, 0, 'u'},          {"drain-timeout", 1, 0, 'D'},
      {"round-gap", 1, 0, 'G'},     {0, 0, 0, 0},
  };
  int ch;
  while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (ch) {
    case 'h':
      if (strlen(optarg) >= sizeof cfg.host) die("host too long");
      strcpy(cfg.host, optarg);
      break;
    case 'p': cfg.port = (unsigned)parse_num(optarg, 1, 65535, "port"); break;
    case 'm':
      if (!strcmp(optarg, "throughput")) cfg.mode = M_THROUGHPUT;
      else if (!strcmp(optarg, "latency")) cfg.mode = M_LATENCY;
      else if (!strcmp(optarg, "idle")) cfg.mode = M_IDLE;
      else if (!strcmp(optarg, "broadcast")) cfg.mode = M_BROADCAST;
      else die("bad mode: %s", optarg);
      break;
    case 'c': cfg.conns = (unsigned)parse_num(optarg, 1, MAX_CONNS, "conns"); break;
    case 's': cfg.size = (size_t)parse_num(optarg, 0, MAX_SIZE, "size"); break;
    case 'k': cfg.inflight = (unsigned)parse_num(optarg, 1, MAX_INFLIGHT, "inflight"); break;
    case 'd': cfg.duration = parse_num(optarg, 0.1, 3600, "duration"); break;
    case 'w': cfg.warmup = parse_num(optarg, 0, 600, "warmup"); break;
    case 'z':
      if (!strcmp(optarg, "off")) cfg.deflate = D_OFF;
      else if (!strcmp(optarg, "nctx")) cfg.deflate = D_NCTX;
      else if (!strcmp(optarg, "ctx")) cfg.deflate = D_CTX;
      else die("bad deflate mode: %s", optarg);
      break;
    case 't': cfg.text = 1; break;
    case 'S': {
      char buf[2048];
      if (strlen(optarg) >= sizeof buf) die("--src too long");
      strcpy(buf, optarg);
      char *save = NULL;
      for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (cfg.nsrc >= MAX_SRC) die("at most %u source addresses", MAX_SRC);
        if (inet_pton(AF_INET, tok, &cfg.src[cfg.nsrc]) != 1 || !loopback(cfg.src[cfg.nsrc]))
          die("--src: %s is not an IPv4 loopback address (127.0.0.0/8)", tok);
        cfg.nsrc++;
      }
      break;
    }
    case 'C': cfg.connect_concurrency = (unsigned)parse_num(optarg, 1, 65536, "connect-concurrency"); break;
    case 'T': cfg.connect_timeout = parse_num(optarg, 0.1, 600, "connect-timeout"); break;
    case 'H': cfg.hold = parse_num(optarg, 0, 3600, "hold"); break;
    case 'r': cfg.rounds = (unsigned)parse_num(optarg, 1, MAX_ROUNDS, "rounds"); break;
    case 'W': cfg.warmup_rounds = (unsigned)parse_num(optarg, 0, MAX_ROUNDS, "warmup-rounds"); break;
    case 'R': cfg.round_timeout = parse_num(optarg, 0.01, 600, "round-timeout"); break;
    case 'G': cfg.round_gap = parse_num(optarg, 0, 10, "round-gap"); break;
    case 'P': cfg.server_pid = (long)parse_num(optarg, 0, 1 << 30, "server-pid"); break;
    case 'X': cfg.max_seconds = parse_num(optarg, 1, 7200, "max-seconds"); break;
    case 'D': cfg.drain_timeout = parse_num(optarg, 0, 600, "drain-timeout"); break;
    case 'u':
      if (optarg[0] != '/' || strlen(optarg) >= sizeof cfg.path || strpbrk(optarg, " \r\n")) die("bad path");
      strcpy(cfg.path, optarg);
      break;
    default: usage();
    }
  }
  if (optind != argc || cfg.port == 0) usage();
  if (inet_pton(AF_INET, cfg.host, &cfg.dst) != 1 || !loopback(cfg.dst))
    die("--host must be an IPv4 loopback address (127.0.0.0/8), got %s", cfg.host);
  if (cfg.mode == M_LATENCY) cfg.inflight = 1;
  if (cfg.mode == M_BROADCAST && cfg.rounds <= cfg.warmup_rounds) die("--rounds must exceed --warmup-rounds");
}

/* ------------------------------------------------------------------------------------------ */
/* Main loop                                                                                  */

static void raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)cfg.conns + 16 > rl.rlim_cur)
    die("%u connections need more open files than the limit (%llu); see ulimit -n", cfg.conns,
        (unsigned long long)rl.rlim_cur);
}

static void window_mark(int end) {
  uint64_t t = now_ns();
  if (!end) {
    st.t_win0 = t;
    st.cpu_win0 = cpu_seconds_self();
    st.srv_win0 = cpu_seconds_pid(cfg.server_pid);
    st.wait_win0 = runq_wait_seconds(0);
    st.srv_wait0 = cfg.server_pid > 0 ? runq_wait_seconds(cfg.server_pid) : -1;
    st.win_rx0 = st.wire_rx;
    st.win_tx0 = st.wire_tx;
  } else {
    st.t_win1 = t;
    st.cpu_win1 = cpu_seconds_self();
    st.srv_win1 = cpu_seconds_pid(cfg.server_pid);
    st.wait_win1 = runq_wait_seconds(0);
    st.srv_wait1 = cfg.server_pid > 0 ? runq_wait_seconds(cfg.server_pid) : -1;
    st.win_rx1 = st.wire_rx;
    st.win_tx1 = st.wire_tx;
  }
}

static void begin_close(uint64_t now, uint64_t *deadline) {
  phase = PH_CLOSE;
  *deadline = now + sec_to_ns(cfg.close_timeout);
  for (unsigned i = 0; i < cfg.conns; i++) {
    struct conn *c = &conns[i];
    if (c->state == CS_OPEN) start_close(c);
    else if (c->state == CS_CONNECTING || c->state == CS_HANDSHAKE) conn_close(c);
  }
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  raise_nofile();
  rng_state ^= (uint64_t)getpid() << 17 ^ now_ns();
  uint64_t saved = rng_state;
  rng_state = 0x243F6A8885A308D3ull; /* the pattern is the same in every run */
  make_pattern();
  rng_state = saved;

  inbuf = xmalloc(INBUF_CAP);
  zout = xmalloc(ZOUT_CAP);
  zbuf_cap = cfg.size + cfg.size / 8 + 4096; /* >= deflateBound(size) + 64 for any zlib setting */
  zbuf = xmalloc(zbuf_cap);
  outbuf_cap = OUT_BATCH + frame_header_len(zbuf_cap) + zbuf_cap;
  outbuf = xmalloc(outbuf_cap);
  conns = xcalloc(cfg.conns, sizeof *conns);
  for (unsigned i = 0; i < cfg.conns; i++) {
    conns[i].fd = -1;
    conns[i].id = i;
    conns[i].state = CS_IDLE;
    conns[i].bcast_seen = -1;
    if (cfg.mode == M_THROUGHPUT || cfg.mode == M_LATENCY) conns[i].ts = xcalloc(cfg.inflight, sizeof(uint64_t));
  }
  if (cfg.mode == M_BROADCAST) bc.arrivals = xcalloc(cfg.conns, sizeof(uint64_t));

  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1: %s", strerror(errno));
  int stdin_watched = 0;
  if (cfg.mode == M_IDLE) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    stdin_watched = epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) == 0; /* fails for /dev/null: hold timer only */
  }

  struct epoll_event events[1024];
  st.t_start = now_ns();
  const uint64_t hard_stop = st.t_start + sec_to_ns(cfg.max_seconds);
  uint64_t deadline = st.t_start + sec_to_ns(cfg.connect_timeout);
  int aborted = 0;

  while (phase != PH_DONE) {
    uint64_t now = now_ns();
    /* --- phase transitions --- */
    if (now >= hard_stop && phase != PH_CLOSE) {
      fprintf(stderr, "loadgen: --max-seconds reached, stopping\n");
      aborted = 1;
      if (phase == PH_MEASURE) window_mark(1);
      begin_close(now, &deadline);
    }
    switch (phase) {
    case PH_CONNECT:
      while (next_to_open < cfg.conns && st.connecting < cfg.connect_concurrency) conn_start(&conns[next_to_open++]);
      if (st.connect_done >= cfg.conns || now >= deadline) {
        if (st.connect_done < cfg.conns) {
          fprintf(stderr, "loadgen: connect timeout: %u of %u open\n", st.opened, cfg.conns);
          for (unsigned i = 0; i < cfg.conns; i++)
            if (conns[i].state == CS_CONNECTING || conns[i].state == CS_HANDSHAKE || conns[i].state == CS_IDLE) {
              if (conns[i].state == CS_IDLE) st.connect_done++;
              conn_close(&conns[i]);
              st.err.connect++;
            }
        }
        if (st.opened == 0) {
          fprintf(stderr, "loadgen: no connection could be opened\n");
          begin_close(now, &deadline);
          break;
        }
        if (cfg.mode == M_IDLE) {
          printf("event open {\"opened\":%u,\"open_ms\":%.3f}\n", st.opened, (double)(st.t_open_last - st.t_start) / 1e6);
          fflush(stdout);
          phase = PH_HOLD;
          deadline = now + sec_to_ns(cfg.hold);
        } else if (cfg.mode == M_BROADCAST) {
          phase = PH_BCAST;
          window_mark(0);
          bc.t_next = now;
        } else {
          phase = cfg.warmup > 0 ? PH_WARMUP : PH_MEASURE;
          if (phase == PH_MEASURE) window_mark(0);
          deadline = now + sec_to_ns(cfg.warmup > 0 ? cfg.warmup : cfg.duration);
          for (unsigned i = 0; i < cfg.conns; i++)
            if (conns[i].state == CS_OPEN) {
              conns[i].owed = cfg.inflight;
              conn_pump(&conns[i]);
            }
        }
      }
      break;
    case PH_WARMUP:
      if (now >= deadline) {
        phase = PH_MEASURE;
        window_mark(0);
        deadline = now + sec_to_ns(cfg.duration);
      }
      break;
    case PH_MEASURE:
      if (now >= deadline || st.n_open == 0) {
        window_mark(1);
        phase = PH_DRAIN;
        deadline = now + sec_to_ns(cfg.drain_timeout);
        for (unsigned i = 0; i < cfg.conns; i++) conns[i].owed = 0;
      }
      break;
    case PH_DRAIN:
      /* a slow server (deflate, 1,000 connections) may need longer than --drain-timeout for
       * its queue: keep waiting while echoes still arrive, up to --max-seconds */
      if (st.outstanding == 0 || (now >= deadline && now >= st.t_progress + sec_to_ns(cfg.drain_timeout)))
        begin_close(now, &deadline);
      break;
    case PH_HOLD:
      if (now >= deadline || st.n_open == 0) begin_close(now, &deadline);
      break;
    case PH_BCAST:
      if (bc.active && now >= bc.t_send + sec_to_ns(cfg.round_timeout)) {
        fprintf(stderr, "loadgen: broadcast round %u: %u of %u delivered before the timeout\n", bc.round, bc.got,
                st.n_open);
        bcast_finish_round(now);
      }
      if (!bc.active && bc.round >= cfg.rounds) {
        window_mark(1);
        begin_close(now, &deadline);
      } else if (!bc.active && now >= bc.t_next) {
        bcast_start_round();
      }
      break;
    case PH_CLOSE:
      if (st.n_open == 0 || now >= deadline) {
        for (unsigned i = 0; i < cfg.conns; i++)
          if (conns[i].fd >= 0) conn_close(&conns[i]);
        phase = PH_DONE;
      }
      break;
    case PH_DONE: break;
    }
    if (phase == PH_DONE) break;

    /* --- wait --- */
    uint64_t wake = deadline;
    if (phase == PH_BCAST) wake = bc.active ? bc.t_send + sec_to_ns(cfg.round_timeout) : bc.t_next;
    if (wake > hard_stop) wake = hard_stop;
    now = now_ns();
    int timeout_ms = wake > now ? (int)((wake - now + 999999u) / 1000000u) : 0;
    if (timeout_ms > 100) timeout_ms = 100;
    if (phase == PH_CONNECT && next_to_open < cfg.conns && st.connecting < cfg.connect_concurrency) timeout_ms = 0;
    int n = epoll_wait(ep, events, (int)(sizeof events / sizeof events[0]), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait: %s", strerror(errno));
    }
    for (int i = 0; i < n; i++) {
      uint32_t id = events[i].data.u32;
      if (id == UINT32_MAX) { /* stdin: a line or EOF ends the hold */
        char tmp[256];
        ssize_t r = read(0, tmp, sizeof tmp);
        if (r <= 0 || memchr(tmp, '\n', (size_t)r)) {
          epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
          stdin_watched = 0;
          if (phase == PH_HOLD) deadline = 0;
        }
        continue;
      }
      if (id >= cfg.conns || conns[id].fd < 0) continue;
      on_event(&conns[id], events[i].events);
    }
  }
  (void)stdin_watched;
  print_result();
  return aborted ? 1 : 0;
}
