/*
 * shadowbench.c - load generator for Moss's Device Shadow service (AWS IoT shadow topics over MQTT 3.1.1).
 *
 * Self-contained (no libraries): raw MQTT 3.1.1 over non-blocking TCP in one epoll loop, the approach of
 * ../shared/bench/mqttbench.c. Used by scripts/bench/shadow.sh.
 *
 * Client i is the device of thing "<prefix>-<i>" (default bench-thing-<i>). It subscribes at QoS 1 to
 *   $aws/things/<thing>/shadow[/name/<shadow>]/update/accepted
 *   $aws/things/<thing>/shadow[/name/<shadow>]/update/rejected
 *   .../update/documents            (only with -D; otherwise the service still publishes it, to nobody)
 * and publishes QoS 1 updates to .../update, each
 *   {"state":{"reported":{"temperature":<n>,"humidity":<n>,"seq":<n>}},"clientToken":"<client>-<seq>"}
 * keeping at most -W updates per client outstanding. An update is outstanding from the moment its PUBLISH is
 * queued until the reply (accepted or rejected) carrying its clientToken arrives; the reply frees the slot and
 * the next update goes out in the same write as the PUBACKs for the replies. PUBACKs for our own PUBLISHes are
 * counted but do not gate the window: an accepted reply is the acknowledgement that matters (the update is
 * committed). Latency = time the PUBLISH was queued -> time the accepted reply was read (CLOCK_MONOTONIC).
 *
 * Phases: connect + subscribe, warm-up (-w s), measurement (-t s), drain (stop publishing; wait at most -d s
 * for the outstanding replies). Rates, latency, client CPU and (with -S PID) the server's CPU are taken over
 * the measurement phase only (replies read inside it).
 *
 * Output: one result line on stdout (key=value, or JSON with -J). Diagnostics go to stderr.
 * Exit status: 0 ok; 1 usage; 2 connection error (refused, CONNACK/SUBACK failure, closed, protocol error);
 *              3 setup timeout; 4 some update was rejected; 5 some update got no reply before the drain ended.
 *
 * Build: cc -O2 -Wall -Wextra -o shadowbench shadowbench.c -lm
 * Examples:
 *   ./shadowbench -p 1883                      10 things, window 32, 2 s warm-up, 10 s measured
 *   ./shadowbench -p 1883 -D                   same, also subscribed to update/documents
 *   ./shadowbench -p 1883 -L -c 1              pure round-trip latency: one client, one update in flight
 *   ./shadowbench -p 1883 -n config            named shadow "config" instead of the classic shadow
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---------------- latency histogram (ns input, log-linear buckets; from mqttbench.c) ---------------- */
/* 0..100 ms at 1 us resolution, 100 ms..10 s at 100 us, overflow bucket above. */
#define H_LIN1 100000
#define H_LIN2 99000
#define H_N (H_LIN1 + H_LIN2 + 1)
typedef struct {
    uint64_t b[H_N];
    uint64_t count;
    uint64_t max_ns;
    double sum_ns;
} hist_t;

static void hist_add(hist_t *h, int64_t ns) {
    if (ns < 0) ns = 0;
    uint64_t us = (uint64_t)ns / 1000;
    size_t i;
    if (us < H_LIN1) i = us;
    else if (us < 10000000ULL) i = H_LIN1 + (us - H_LIN1) / 100;
    else i = H_N - 1;
    if (i >= H_N) i = H_N - 1;
    h->b[i]++;
    h->count++;
    h->sum_ns += (double)ns;
    if ((uint64_t)ns > h->max_ns) h->max_ns = (uint64_t)ns;
}
static double hist_bucket_us(size_t i) {
    if (i < H_LIN1) return (double)i + 0.5;
    if (i < H_N - 1) return H_LIN1 + (double)(i - H_LIN1) * 100 + 50;
    return 1e7;
}
static double hist_pct_us(const hist_t *h, double p) {
    if (h->count == 0) return NAN;
    uint64_t target = (uint64_t)ceil(p / 100.0 * (double)h->count);
    if (target == 0) target = 1;
    uint64_t acc = 0;
    for (size_t i = 0; i < H_N; i++) {
        acc += h->b[i];
        if (acc >= target) return hist_bucket_us(i);
    }
    return hist_bucket_us(H_N - 1);
}

/* ---------------- configuration ---------------- */
static struct {
    const char *host;
    int port;
    int clients;
    int window;
    int docs;              /* -D: also subscribe to update/documents */
    const char *prefix;    /* thing name prefix */
    const char *shadow;    /* named shadow, NULL = classic */
    double warmup, duration, drain;
    int keepalive;
    int json;
    const char *label;
    int server_pid;        /* -S: sample this process's CPU over the measurement */
    int latency_mode;      /* -L */
} cfg = {"127.0.0.1", 1883, 10, 32, 0, "bench-thing", NULL, 2, 10, 10, 60, 0, "", 0, 0};

#define MAX_PACKET (64u * 1024 * 1024)

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---------------- connections ---------------- */
enum { S_CONNECTING, S_SUBSCRIBING, S_READY, S_DEAD };

typedef struct {
    uint64_t seq;          /* update sequence number occupying the slot */
    uint64_t t_ns;         /* when its PUBLISH was queued */
    int pending;
} slot_t;

typedef struct {
    int fd, id, state;
    char cid[48]; int cid_len;                     /* MQTT client id; also the clientToken prefix */
    char thing[96];
    char base[200]; int base_len;                  /* $aws/things/<thing>/shadow[/name/<shadow>] */
    char t_update[220]; int t_update_len;
    uint8_t *in; size_t in_len, in_cap;
    uint8_t *out; size_t out_len, out_off, out_cap;
    int want_out;
    uint64_t next_seq;     /* next update's seq (starts at 1) */
    int outstanding;       /* updates without a reply yet */
    slot_t *slots;         /* window slots, indexed seq % window */
    uint16_t mid;
    uint64_t published, pubacks, accepted, rejected, documents, deltas, unmatched, foreign;
} conn_t;

static int epfd;
static conn_t *conns;
static hist_t hist;
static int publishing, measuring;
static int sub_qos_downgraded;
static char first_reject[400];
static size_t doc_bytes_max;

static void fatal(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void fatal(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("shadowbench: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

static void out_reserve(conn_t *c, size_t n) {
    if (c->out_off > 0 && c->out_off == c->out_len) c->out_off = c->out_len = 0;
    if (c->out_len + n <= c->out_cap) return;
    if (c->out_off > 0) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
        if (c->out_len + n <= c->out_cap) return;
    }
    size_t nc = c->out_cap ? c->out_cap * 2 : 65536;
    while (nc < c->out_len + n) nc *= 2;
    c->out = realloc(c->out, nc);
    if (!c->out) fatal(2, "out of memory");
    c->out_cap = nc;
}

static size_t put_varint(uint8_t *p, uint32_t v) {
    size_t n = 0;
    do { uint8_t b = v % 128; v /= 128; if (v) b |= 0x80; p[n++] = b; } while (v);
    return n;
}
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)(v & 0xff); }

static void set_events(conn_t *c, int want_out) {
    if (c->want_out == want_out || c->state == S_DEAD) return;
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) fatal(2, "epoll_ctl: %s", strerror(errno));
    c->want_out = want_out;
}

/* Any connection loss is fatal: the benchmark's numbers would be meaningless. */
static void conn_fail(conn_t *c, const char *why) __attribute__((noreturn));
static void conn_fail(conn_t *c, const char *why) {
    fatal(2, "client %d (%s, thing %s) on %s:%d: %s", c->id, c->cid, c->thing, cfg.host, cfg.port, why);
}

static void flush_out(conn_t *c) {
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) { set_events(c, 1); return; }
            if (errno == EINTR) continue;
            conn_fail(c, strerror(errno));
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    set_events(c, 0);
}

/* Appends a packet: fixed header byte, remaining length, then body (caller fills body). Returns body ptr. */
static uint8_t *append_packet(conn_t *c, uint8_t first, size_t body_len) {
    out_reserve(c, body_len + 5);
    uint8_t *p = c->out + c->out_len;
    p[0] = first;
    size_t h = 1 + put_varint(p + 1, (uint32_t)body_len);
    c->out_len += h + body_len;
    return p + h;
}

static void send_connect(conn_t *c) {
    size_t n = 10 + 2 + (size_t)c->cid_len;
    uint8_t *b = append_packet(c, 0x10, n);
    put16(b, 4); memcpy(b + 2, "MQTT", 4);
    b[6] = 4;                 /* protocol level: 3.1.1 */
    b[7] = 0x02;              /* clean session */
    put16(b + 8, (uint16_t)cfg.keepalive);
    put16(b + 10, (uint16_t)c->cid_len);
    memcpy(b + 12, c->cid, (size_t)c->cid_len);
    flush_out(c);
}

static const char *suffixes[] = {"/update/accepted", "/update/rejected", "/update/documents"};

static int n_filters(void) { return cfg.docs ? 3 : 2; }

static void send_subscribe(conn_t *c) {
    char f[3][260]; int fl[3]; size_t n = 2;
    for (int i = 0; i < n_filters(); i++) {
        fl[i] = snprintf(f[i], sizeof f[i], "%s%s", c->base, suffixes[i]);
        n += 2 + (size_t)fl[i] + 1;
    }
    uint8_t *b = append_packet(c, 0x82, n);
    put16(b, 1); b += 2;
    for (int i = 0; i < n_filters(); i++) {
        put16(b, (uint16_t)fl[i]); memcpy(b + 2, f[i], (size_t)fl[i]); b[2 + fl[i]] = 1; /* QoS 1 */
        b += 3 + fl[i];
    }
    flush_out(c);
}

static int doc_len(conn_t *c, uint64_t seq, char *buf, size_t cap) {
    return snprintf(buf, cap,
                    "{\"state\":{\"reported\":{\"temperature\":%d,\"humidity\":%d,\"seq\":%llu}},"
                    "\"clientToken\":\"%s-%llu\"}",
                    18 + (int)(seq % 13), 35 + (int)(seq % 40), (unsigned long long)seq, c->cid,
                    (unsigned long long)seq);
}

static void append_update(conn_t *c, uint64_t t) {
    char doc[256];
    uint64_t seq = c->next_seq++;
    int dl = doc_len(c, seq, doc, sizeof doc);
    if ((size_t)dl > doc_bytes_max) doc_bytes_max = (size_t)dl;
    if (++c->mid == 0) c->mid = 1;
    size_t n = 2 + (size_t)c->t_update_len + 2 + (size_t)dl;
    uint8_t *b = append_packet(c, 0x32, n); /* PUBLISH, QoS 1 */
    put16(b, (uint16_t)c->t_update_len);
    memcpy(b + 2, c->t_update, (size_t)c->t_update_len);
    b += 2 + c->t_update_len;
    put16(b, c->mid);
    memcpy(b + 2, doc, (size_t)dl);
    slot_t *s = &c->slots[seq % (uint64_t)cfg.window];
    s->seq = seq; s->t_ns = t; s->pending = 1;
    c->outstanding++;
    c->published++;
}

/* Queue updates while the window has room (the next seq's slot must be free, so replies may arrive out of
   order without two updates sharing a slot). */
static void fill_window(conn_t *c) {
    if (!publishing || c->state != S_READY) return;
    while (c->outstanding < cfg.window && !c->slots[c->next_seq % (uint64_t)cfg.window].pending)
        append_update(c, now_ns());
}

/* Finds "clientToken":"<token>" in a JSON payload. Returns token length, -1 if absent. */
static int find_token(const uint8_t *p, size_t len, const uint8_t **tok) {
    static const char key[] = "\"clientToken\"";
    const uint8_t *k = memmem(p, len, key, sizeof key - 1);
    if (!k) return -1;
    const uint8_t *e = p + len, *q = k + sizeof key - 1;
    while (q < e && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')) q++;
    if (q >= e || *q != ':') return -1;
    q++;
    while (q < e && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')) q++;
    if (q >= e || *q != '"') return -1;
    q++;
    const uint8_t *s = q;
    while (q < e && *q != '"') q++;
    if (q >= e) return -1;
    *tok = s;
    return (int)(q - s);
}

/* Matches a reply's clientToken to an outstanding update of this client; frees the slot. Returns its
   queue time, or 0 if the token is not one of ours / not outstanding. */
static uint64_t match_reply(conn_t *c, const uint8_t *payload, size_t len) {
    const uint8_t *tok = NULL;
    int tl = find_token(payload, len, &tok);
    if (tl <= c->cid_len + 1 || memcmp(tok, c->cid, (size_t)c->cid_len) != 0 || tok[c->cid_len] != '-') return 0;
    uint64_t seq = 0;
    for (int i = c->cid_len + 1; i < tl; i++) {
        if (tok[i] < '0' || tok[i] > '9') return 0;
        seq = seq * 10 + (uint64_t)(tok[i] - '0');
    }
    slot_t *s = &c->slots[seq % (uint64_t)cfg.window];
    if (!s->pending || s->seq != seq) return 0;
    s->pending = 0;
    c->outstanding--;
    return s->t_ns;
}

static int topic_is(conn_t *c, const uint8_t *t, size_t tl, const char *suffix) {
    size_t sl = strlen(suffix);
    return tl == (size_t)c->base_len + sl && memcmp(t, c->base, (size_t)c->base_len) == 0 &&
           memcmp(t + c->base_len, suffix, sl) == 0;
}

static void on_publish(conn_t *c, uint8_t flags, const uint8_t *b, size_t len, uint64_t now) {
    int qos = (flags >> 1) & 3;
    if (len < 2) conn_fail(c, "malformed PUBLISH (no topic)");
    size_t tl = ((size_t)b[0] << 8) | b[1];
    size_t off = 2 + tl;
    uint16_t mid = 0;
    if (qos == 3) conn_fail(c, "malformed PUBLISH (QoS 3)");
    if (off + (qos ? 2 : 0) > len) conn_fail(c, "malformed PUBLISH (topic longer than packet)");
    if (qos) { mid = (uint16_t)((b[off] << 8) | b[off + 1]); off += 2; }
    const uint8_t *t = b + 2, *pl = b + off;
    size_t pll = len - off;

    if (topic_is(c, t, tl, "/update/accepted")) {
        uint64_t t0 = match_reply(c, pl, pll);
        if (t0) {
            c->accepted++;
            if (measuring) hist_add(&hist, (int64_t)(now - t0));
        } else {
            c->unmatched++;
        }
    } else if (topic_is(c, t, tl, "/update/rejected")) {
        uint64_t t0 = match_reply(c, pl, pll);
        if (t0) c->rejected++; else c->unmatched++;
        if (!first_reject[0]) {
            snprintf(first_reject, sizeof first_reject, "%.*s: %.*s", (int)(tl > 150 ? 150 : tl), (const char *)t,
                     (int)(pll > 200 ? 200 : pll), (const char *)pl);
            fprintf(stderr, "shadowbench: update rejected on %s\n", first_reject);
        }
    } else if (topic_is(c, t, tl, "/update/documents")) {
        c->documents++;
    } else if (topic_is(c, t, tl, "/update/delta")) {
        c->deltas++;
    } else {
        c->foreign++;
    }
    if (qos == 1) {
        uint8_t *a = append_packet(c, 0x40, 2); put16(a, mid);
    } else if (qos == 2) {
        uint8_t *a = append_packet(c, 0x50, 2); put16(a, mid);
    }
}

static void handle_packet(conn_t *c, uint8_t type, uint8_t flags, const uint8_t *b, size_t len, uint64_t now) {
    switch (type) {
    case 2: /* CONNACK */
        if (c->state != S_CONNECTING) conn_fail(c, "unexpected CONNACK");
        if (len < 2) conn_fail(c, "malformed CONNACK");
        if (b[1] != 0) {
            static const char *why[] = {"accepted", "unacceptable protocol version", "client identifier rejected",
                                        "server unavailable", "bad user name or password", "not authorized"};
            char m[120];
            snprintf(m, sizeof m, "CONNACK refused the connection: code %d (%s)", b[1], b[1] < 6 ? why[b[1]] : "?");
            conn_fail(c, m);
        }
        c->state = S_SUBSCRIBING;
        send_subscribe(c);
        break;
    case 9: /* SUBACK */
        if (len < 2 + (size_t)n_filters()) conn_fail(c, "malformed SUBACK");
        for (int i = 0; i < n_filters(); i++) {
            if (b[2 + i] == 0x80) {
                char m[300];
                snprintf(m, sizeof m, "SUBACK refused the subscription to %s%s", c->base, suffixes[i]);
                conn_fail(c, m);
            }
            if (b[2 + i] < 1) sub_qos_downgraded = 1;
        }
        c->state = S_READY;
        break;
    case 3: on_publish(c, flags, b, len, now); break;
    case 6: { /* PUBREL (inbound QoS 2) -> PUBCOMP */
        if (len < 2) conn_fail(c, "malformed PUBREL");
        uint8_t *a = append_packet(c, 0x70, 2); a[0] = b[0]; a[1] = b[1];
        break;
    }
    case 4: c->pubacks++; break; /* PUBACK of one of our updates */
    case 13: break;              /* PINGRESP */
    default: {
        char m[64];
        snprintf(m, sizeof m, "unexpected packet type %d", type);
        conn_fail(c, m);
    }
    }
}

/* Reads everything available; parses complete packets, keeps a partial one for the next read. */
static void on_readable(conn_t *c) {
    size_t budget = 4u << 20; /* do not starve the other clients during a large burst */
    for (;;) {
        if (c->in_cap - c->in_len < 65536) {
            c->in_cap = c->in_cap ? c->in_cap * 2 : 131072;
            c->in = realloc(c->in, c->in_cap);
            if (!c->in) fatal(2, "out of memory");
        }
        ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (n == 0) conn_fail(c, "the server closed the connection");
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR) continue;
            conn_fail(c, strerror(errno));
        }
        c->in_len += (size_t)n;
        uint64_t now = now_ns();
        size_t pos = 0;
        while (c->in_len - pos >= 2) {
            const uint8_t *p = c->in + pos;
            uint32_t rl = 0, mul = 1;
            size_t i = 1;
            int complete = 0;
            while (i < c->in_len - pos) {
                if (i > 4) conn_fail(c, "malformed remaining length");
                rl += (uint32_t)(p[i] & 127) * mul;
                mul *= 128;
                if (!(p[i++] & 128)) { complete = 1; break; }
            }
            if (!complete) break;
            if (rl > MAX_PACKET) conn_fail(c, "packet larger than 64 MiB");
            if (c->in_len - pos < i + rl) {
                /* partial packet: make sure it will fit */
                if (i + rl > c->in_cap - 65536) {
                    while (i + rl > c->in_cap - 65536) c->in_cap *= 2;
                    c->in = realloc(c->in, c->in_cap);
                    if (!c->in) fatal(2, "out of memory");
                }
                break;
            }
            handle_packet(c, p[0] >> 4, p[0] & 15, p + i, rl, now);
            pos += i + rl;
        }
        if (pos) { memmove(c->in, c->in + pos, c->in_len - pos); c->in_len -= pos; }
        if ((size_t)n >= budget) break;
        budget -= (size_t)n;
    }
    fill_window(c);
    if (c->out_len > c->out_off) flush_out(c);
}

static void open_conn(conn_t *c) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai, *a;
    char port[16];
    snprintf(port, sizeof port, "%d", cfg.port);
    int rc = getaddrinfo(cfg.host, port, &hints, &ai);
    if (rc != 0) fatal(2, "cannot resolve %s: %s", cfg.host, gai_strerror(rc));
    int fd = -1, err = 0;
    for (a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) { err = errno; continue; }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0) fatal(2, "cannot connect to %s:%d: %s (is the server running?)", cfg.host, cfg.port, strerror(err));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    c->fd = fd;
    c->state = S_CONNECTING;
    c->want_out = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) fatal(2, "epoll_ctl: %s", strerror(errno));
    send_connect(c);
}

static void loop_once(int timeout_ms) {
    struct epoll_event evs[64];
    int n = epoll_wait(epfd, evs, 64, timeout_ms);
    if (n < 0 && errno != EINTR) fatal(2, "epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        conn_t *c = evs[i].data.ptr;
        if ((evs[i].events & (EPOLLERR | EPOLLHUP)) && !(evs[i].events & EPOLLIN)) {
            int e = 0; socklen_t el = sizeof e;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el);
            conn_fail(c, e ? strerror(e) : "connection hung up");
        }
        if (evs[i].events & EPOLLIN) on_readable(c);
        if ((evs[i].events & EPOLLOUT) && c->out_len > c->out_off) flush_out(c);
    }
}

static void send_ping_all(void) {
    for (int i = 0; i < cfg.clients; i++) {
        conn_t *c = &conns[i];
        append_packet(c, 0xC0, 0);
        flush_out(c);
    }
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* utime+stime of a process (all threads) in seconds from /proc/PID/stat; -1 if unreadable. */
static double proc_cpu_seconds(int pid) {
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* comm may hold spaces; fields resume after the last ')' */
    if (!p) return -1;
    unsigned long long ut = 0, st = 0;
    /* after ")": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static uint64_t sum_field(size_t off) {
    uint64_t s = 0;
    for (int i = 0; i < cfg.clients; i++) s += *(uint64_t *)((char *)&conns[i] + off);
    return s;
}
#define SUM(f) sum_field(offsetof(conn_t, f))

/* A number for the result line; "null" when there is none (valid JSON, obvious in text). */
static void fmt_num(char *buf, double v, int decimals) {
    if (isnan(v)) snprintf(buf, 24, "null");
    else snprintf(buf, 24, "%.*f", decimals, v);
}

static void usage(void) {
    fprintf(stderr,
            "usage: shadowbench [options]\n"
            "  -h host (127.0.0.1)      -p port (1883)\n"
            "  -c clients = things (10)  -x thing name prefix (bench-thing): thing i is <prefix>-<i>\n"
            "  -n shadow name (classic shadow when absent)\n"
            "  -W outstanding updates per client (32)   -L latency mode: window 1\n"
            "  -D also subscribe to update/documents (default: accepted + rejected only)\n"
            "  -w warm-up s (2)   -t measured s (10)   -d max drain s (10)   -k keepalive s (60)\n"
            "  -S PID  report this process's CPU %% over the measurement (the server)\n"
            "  -l label   -J  one JSON line instead of key=value\n");
    exit(1);
}

int main(int argc, char **argv) {
    int opt;
    while ((opt = getopt(argc, argv, "h:p:c:x:n:W:LDw:t:d:k:S:l:J")) != -1) {
        switch (opt) {
        case 'h': cfg.host = optarg; break;
        case 'p': cfg.port = atoi(optarg); break;
        case 'c': cfg.clients = atoi(optarg); break;
        case 'x': cfg.prefix = optarg; break;
        case 'n': cfg.shadow = optarg; break;
        case 'W': cfg.window = atoi(optarg); break;
        case 'L': cfg.latency_mode = 1; break;
        case 'D': cfg.docs = 1; break;
        case 'w': cfg.warmup = atof(optarg); break;
        case 't': cfg.duration = atof(optarg); break;
        case 'd': cfg.drain = atof(optarg); break;
        case 'k': cfg.keepalive = atoi(optarg); break;
        case 'S': cfg.server_pid = atoi(optarg); break;
        case 'l': cfg.label = optarg; break;
        case 'J': cfg.json = 1; break;
        default: usage();
        }
    }
    if (optind != argc) usage();
    if (cfg.latency_mode) cfg.window = 1;
    if (cfg.clients < 1 || cfg.clients > 10000 || cfg.window < 1 || cfg.window > 60000 || cfg.duration <= 0 ||
        cfg.warmup < 0 || cfg.drain < 0 || cfg.port <= 0 || cfg.port > 65535 || cfg.keepalive < 0 ||
        cfg.keepalive > 65535)
        usage();
    if (strlen(cfg.prefix) > 60 || (cfg.shadow && (strlen(cfg.shadow) > 64 || !*cfg.shadow)))
        fatal(1, "thing prefix must be at most 60 characters and the shadow name 1 to 64");
    if (cfg.server_pid && proc_cpu_seconds(cfg.server_pid) < 0)
        fatal(1, "cannot read /proc/%d/stat (-S must name a running process)", cfg.server_pid);
    signal(SIGPIPE, SIG_IGN);

    epfd = epoll_create1(0);
    if (epfd < 0) fatal(2, "epoll_create1: %s", strerror(errno));
    conns = calloc((size_t)cfg.clients, sizeof(conn_t));
    if (!conns) fatal(2, "out of memory");
    for (int i = 0; i < cfg.clients; i++) {
        conn_t *c = &conns[i];
        c->id = i;
        c->next_seq = 1;
        c->cid_len = snprintf(c->cid, sizeof c->cid, "sb%d-%d", (int)getpid(), i);
        snprintf(c->thing, sizeof c->thing, "%s-%d", cfg.prefix, i);
        if (cfg.shadow) c->base_len = snprintf(c->base, sizeof c->base, "$aws/things/%s/shadow/name/%s", c->thing, cfg.shadow);
        else c->base_len = snprintf(c->base, sizeof c->base, "$aws/things/%s/shadow", c->thing);
        c->t_update_len = snprintf(c->t_update, sizeof c->t_update, "%s/update", c->base);
        c->slots = calloc((size_t)cfg.window, sizeof(slot_t));
        if (!c->slots) fatal(2, "out of memory");
    }
    for (int i = 0; i < cfg.clients; i++) open_conn(&conns[i]);

    uint64_t deadline = now_ns() + 10ULL * 1000000000ULL;
    for (;;) {
        int ready = 0;
        for (int i = 0; i < cfg.clients; i++) ready += conns[i].state == S_READY;
        if (ready == cfg.clients) break;
        if (now_ns() > deadline)
            fatal(3, "timeout: %d of %d clients got CONNACK and SUBACK within 10 s", ready, cfg.clients);
        loop_once(5);
    }
    if (sub_qos_downgraded) fprintf(stderr, "shadowbench: warning: the server granted QoS 0 for some reply topics\n");

    uint64_t t_start = now_ns();
    uint64_t t_meas = t_start + (uint64_t)(cfg.warmup * 1e9);
    uint64_t t_stop = t_meas + (uint64_t)(cfg.duration * 1e9);
    uint64_t t_end = t_stop + (uint64_t)(cfg.drain * 1e9);
    uint64_t last_ping = t_start, m0 = 0, m1 = 0;
    double cpu0 = 0, cpu1 = 0, srv0 = -1, srv1 = -1;
    uint64_t acc0 = 0, acc1 = 0, rej0 = 0, rej1 = 0, doc0 = 0, doc1 = 0, pub0 = 0, pub1 = 0;
    int done_meas = 0;
    double cpu_start = cpu_seconds();

    publishing = 1;
    for (int i = 0; i < cfg.clients; i++) { fill_window(&conns[i]); flush_out(&conns[i]); }
    for (;;) {
        uint64_t now = now_ns();
        if (!measuring && !done_meas && now >= t_meas) {
            measuring = 1;
            m0 = now; cpu0 = cpu_seconds();
            if (cfg.server_pid) srv0 = proc_cpu_seconds(cfg.server_pid);
            acc0 = SUM(accepted); rej0 = SUM(rejected); doc0 = SUM(documents); pub0 = SUM(published);
        }
        if (measuring && now >= t_stop) {
            measuring = 0; done_meas = 1; publishing = 0;
            m1 = now; cpu1 = cpu_seconds();
            if (cfg.server_pid) srv1 = proc_cpu_seconds(cfg.server_pid);
            acc1 = SUM(accepted); rej1 = SUM(rejected); doc1 = SUM(documents); pub1 = SUM(published);
        }
        if (done_meas) {
            int outstanding = 0;
            for (int i = 0; i < cfg.clients; i++) outstanding += conns[i].outstanding;
            if (outstanding == 0 || now >= t_end) break;
        }
        if (cfg.keepalive > 0 && now - last_ping > (uint64_t)cfg.keepalive * 500000000ULL) {
            send_ping_all();
            last_ping = now;
        }
        uint64_t next = done_meas ? t_end : measuring ? t_stop : t_meas;
        int wait_ms = next > now ? (int)((next - now + 999999) / 1000000) : 0;
        if (wait_ms > 5) wait_ms = 5;
        loop_once(wait_ms);
    }
    double wall_total = (now_ns() - t_start) / 1e9;
    double cpu_total = cpu_seconds() - cpu_start;
    /* polite goodbye: DISCONNECT, then close */
    for (int i = 0; i < cfg.clients; i++) {
        uint8_t d[2] = {0xE0, 0};
        if (write(conns[i].fd, d, 2) < 0) { /* closing anyway */ }
        close(conns[i].fd);
    }

    double secs = (m1 - m0) / 1e9;
    uint64_t acc = acc1 - acc0, rej = rej1 - rej0, docs = doc1 - doc0, pubs = pub1 - pub0;
    uint64_t acc_all = SUM(accepted), rej_all = SUM(rejected), pub_all = SUM(published), puback_all = SUM(pubacks);
    uint64_t unmatched = SUM(unmatched), foreign = SUM(foreign), deltas = SUM(deltas), docs_all = SUM(documents);
    uint64_t unanswered = pub_all - acc_all - rej_all;
    double rate = acc / secs, client_cpu = 100.0 * (cpu1 - cpu0) / secs;
    double server_cpu = (srv0 >= 0 && srv1 >= 0) ? 100.0 * (srv1 - srv0) / secs : NAN;
    double p50 = hist_pct_us(&hist, 50), p90 = hist_pct_us(&hist, 90), p99 = hist_pct_us(&hist, 99);
    double p999 = hist_pct_us(&hist, 99.9), mx = hist.count ? hist.max_ns / 1000.0 : NAN;
    double mean = hist.count ? hist.sum_ns / (double)hist.count / 1000.0 : NAN;
    const char *mode = cfg.window == 1 ? "latency" : "throughput";
    char sp50[24], sp90[24], sp99[24], sp999[24], smx[24], smean[24], ssrv[24];
    fmt_num(sp50, p50, 0); fmt_num(sp90, p90, 0); fmt_num(sp99, p99, 0); fmt_num(sp999, p999, 0);
    fmt_num(smx, mx, 0); fmt_num(smean, mean, 1); fmt_num(ssrv, server_cpu, 1);
    if (cfg.json) {
        printf("{\"label\":\"%s\",\"mode\":\"%s\",\"clients\":%d,\"window\":%d,\"docs_subscribed\":%s,"
               "\"shadow\":\"%s\",\"doc_bytes\":%zu,\"measured_s\":%.3f,\"updates_per_s\":%.1f,"
               "\"published_per_s\":%.1f,\"accepted\":%llu,\"rejected\":%llu,\"documents_per_s\":%.1f,"
               "\"lat_p50_us\":%s,\"lat_p90_us\":%s,\"lat_p99_us\":%s,\"lat_p999_us\":%s,"
               "\"lat_max_us\":%s,\"lat_mean_us\":%s,\"client_cpu_pct\":%.1f,\"server_cpu_pct\":%s,"
               "\"published_total\":%llu,\"accepted_total\":%llu,\"rejected_total\":%llu,\"pubacks_total\":%llu,"
               "\"documents_total\":%llu,\"deltas_total\":%llu,\"unanswered\":%llu,\"unmatched\":%llu,"
               "\"foreign\":%llu,\"run_s\":%.3f,\"client_cpu_run_pct\":%.1f}\n",
               cfg.label, mode, cfg.clients, cfg.window, cfg.docs ? "true" : "false",
               cfg.shadow ? cfg.shadow : "", doc_bytes_max, secs, rate, pubs / secs, (unsigned long long)acc,
               (unsigned long long)rej, docs / secs, sp50, sp90, sp99, sp999, smx, smean, client_cpu,
               ssrv, (unsigned long long)pub_all, (unsigned long long)acc_all,
               (unsigned long long)rej_all, (unsigned long long)puback_all, (unsigned long long)docs_all,
               (unsigned long long)deltas, (unsigned long long)unanswered, (unsigned long long)unmatched,
               (unsigned long long)foreign, wall_total, 100.0 * cpu_total / wall_total);
    } else {
        char srv[40] = "";
        if (!isnan(server_cpu)) snprintf(srv, sizeof srv, " server_cpu=%s%%", ssrv);
        printf("%s%smode=%s clients=%d window=%d docs=%s shadow=%s doc_bytes=%zu measured=%.1fs updates/s=%.0f "
               "accepted=%llu rejected=%llu docs/s=%.0f p50_us=%s p99_us=%s max_us=%s client_cpu=%.1f%%%s "
               "unanswered=%llu\n",
               cfg.label, *cfg.label ? " " : "", mode, cfg.clients, cfg.window, cfg.docs ? "subscribed" : "off",
               cfg.shadow ? cfg.shadow : "classic", doc_bytes_max, secs, rate, (unsigned long long)acc,
               (unsigned long long)rej_all, docs / secs, sp50, sp99, smx, client_cpu, srv,
               (unsigned long long)unanswered);
    }
    fflush(stdout);
    if (acc == 0 && rej_all == 0)
        fatal(5, "no accepted reply in the measurement: is the shadow service answering on %s/update/accepted?",
              conns[0].base);
    if (rej_all)
        fatal(4, "%llu update(s) rejected (%llu during the measurement); first: %s", (unsigned long long)rej_all,
              (unsigned long long)rej, first_reject);
    if (unanswered)
        fatal(5, "%llu update(s) got no reply within the %.0f s drain", (unsigned long long)unanswered, cfg.drain);
    if (unmatched)
        fprintf(stderr, "shadowbench: warning: %llu replies matched no outstanding update (duplicates?)\n",
                (unsigned long long)unmatched);
    return 0;
}
