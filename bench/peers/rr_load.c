/*
 * rr_load — the client side of bench/peers' request/response workload: C TCP
 * (optionally TLS 1.3) connections to an rr_server, directly or through a
 * tunnel, each sending requests (rr_wire.h) and reading the responses.
 *
 *   rr_load --connect ADDR:PORT [--connections C] [--size B | --model rr]
 *           [--response-size B] [--inflight W | --rate R [--arrivals poisson|fixed]
 *           [--max-inflight M]] [--warmup S] [--duration S] [--drain S] [--tls]
 *           [--cpu-pid PID ...] [--label TEXT] [--seed N] [--json]
 *
 * Closed loop (the default): every connection keeps W requests in flight and
 * sends the next as soon as a response is complete. Open loop (--rate): R
 * requests per second in all, Poisson or evenly spaced, each on the next
 * connection in turn, pipelined up to M per connection (an arrival that
 * finds M in flight is not sent and is counted as skipped). In open loop a
 * request's latency runs from the moment it was due, not from when the
 * client got round to sending it, so a stall anywhere shows in the tail.
 *
 * Sizes: --size B, or --model rr: relaybench's MCP-like mix (80 % 200-800 B,
 * 15 % 1-4 KB, 5 % 4-64 KB, docs/relaybench.md). The response has the
 * request's size unless --response-size says otherwise.
 *
 * Window: traffic starts at once; what starts during the --warmup seconds is
 * not counted; requests that start during the next --duration seconds are
 * counted, and the client waits up to --drain seconds for their responses
 * (those still missing are timeouts). Requests/s and bytes/s are counted
 * requests over the duration; bytes are request plus response bytes.
 *
 * CPU (--cpu-pid, repeatable): the CPU time that these processes and their
 * descendants (proc_cpu.h) use between the start and the end of the counted
 * window, and the workload's bytes per CPU-second of theirs: the cost of a
 * tunnel, when the pids are the tunnel's processes.
 *
 * Output: one line, or with --json one object (schema "rr_load/1") on stdout.
 * Exit status: 0; 1 when a connection failed or a response was wrong (the
 * figures are still printed); 2 for a usage error.
 *
 * Addresses: loopback or private (RFC 1918 / ULA) only.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "bench/peers/proc_cpu.h"
#include "bench/peers/rr_buf.h"
#include "bench/peers/rr_tls.h"
#include "bench/peers/rr_wire.h"
#include "bench/relaybench/hdr.h"
#include "bench/relaybench/model.h"
#include "bench/relaybench/rng.h"
#include "dataplane/addr.h"

enum {
	CONNS_MAX = 1024,
	INFLIGHT_MAX = 1024,
	CPU_PIDS_MAX = 16,
	LABEL_MAX = 64,
	DURATION_MAX_S = 600,
	WARMUP_MAX_S = 60,
	DRAIN_MAX_S = 60,
	CONNECT_TIMEOUT_S = 10,
	EVENTS = 256,
};

#define RATE_MAX 1e7

struct opts {
	struct pkt_addr to;
	char to_text[DP_ADDR_TEXT_MAX];
	unsigned conns;
	bool model_rr;
	uint32_t size, resp_size;	/* resp_size 0: the request's size */
	bool open_loop;
	double rate;
	enum model_arrivals arrivals;
	unsigned inflight, max_inflight;
	double warmup_s, duration_s, drain_s;
	bool tls;
	pid_t cpu_pid[CPU_PIDS_MAX];
	unsigned n_cpu_pids;
	char label[LABEL_MAX + 1];
	uint64_t seed;
	bool json;
};

/* A request in flight: its response is awaited, oldest first. */
struct req {
	uint64_t due_ns;		/* latency runs from here */
	uint32_t req_len, resp_len, seq;
	bool counted;			/* started inside the window */
};

struct conn {
	int fd;
	SSL *ssl;
	bool dead, want_out;
	struct rr_buf out;
	struct req *fifo;
	unsigned head, n;		/* ring of cap entries */
	uint32_t next_seq;
	uint8_t hdr[RR_WIRE_HDR];	/* the response being read */
	unsigned hdr_got;
	uint32_t body_left;
};

struct load {
	struct opts o;
	int ep;
	SSL_CTX *tls_ctx;
	struct conn *conns;
	unsigned cap;			/* fifo entries per connection, a power of two */
	unsigned rr_next;		/* open loop: next connection */
	double next_due_ns;		/* open loop: next arrival */
	struct rng rng;
	struct hdr *lat;
	uint64_t t0, t1, t2;		/* window start, window end, drain deadline */
	bool cpu_started, cpu_ended;
	struct proc_cpu_set cpu;
	double cpu_start_s, cpu_end_s;
	double cpu_each_start[PROC_CPU_MAX], cpu_each_end[PROC_CPU_MAX];
	unsigned cpu_vanished;
	int cpu_error;
	uint64_t counted_open;		/* counted requests still in flight */
	uint64_t requests, bytes, skipped, timeouts, errors, corrupt, conns_failed;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool is_lab_address(const struct pkt_addr *a)
{
	const uint8_t *b = a->addr;
	static const uint8_t v6_loop[16] = { [15] = 1 };

	if (a->family == PKT_AF_INET)
		return b[0] == 127 || b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
		       (b[0] == 192 && b[1] == 168);
	return !memcmp(b, v6_loop, 16) || (b[0] & 0xfe) == 0xfc;
}

__attribute__((format(printf, 1, 2), noreturn))
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rr_load: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(rr_load --help for the options)\n");
	exit(2);
}

static unsigned long parse_num(const char *opt, const char *s, unsigned long lo,
			       unsigned long hi)
{
	char *end, range[64];
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || *s == '-' || v < lo || v > hi) {
		snprintf(range, sizeof(range), "%lu to %lu", lo, hi);
		fprintf(stderr, "rr_load: --%s: '%s' is not a whole number from %s\n", opt, s,
			range);
		exit(2);
	}
	return v;
}

static double parse_real(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !*s || !(v >= lo && v <= hi)) {
		fprintf(stderr, "rr_load: --%s: '%s' is not a number from %g to %g\n", opt, s, lo,
			hi);
		exit(2);
	}
	return v;
}

static void usage(FILE *f)
{
	fputs("usage: rr_load --connect ADDR:PORT [options]\n"
	      "  --connections C      TCP connections (default 16, at most 1024)\n"
	      "  --size B             request size in bytes, header included (default 1400,\n"
	      "                       16 to 1048576)\n"
	      "  --model rr           sizes from relaybench's MCP-like mix instead\n"
	      "  --response-size B    response size (default: the request's)\n"
	      "  --inflight W         closed loop: requests in flight per connection (default 1)\n"
	      "  --rate R             open loop: R requests per second in all\n"
	      "  --arrivals A         open loop: poisson (default) or fixed\n"
	      "  --max-inflight M     open loop: pipelined requests per connection (default 64)\n"
	      "  --warmup S           seconds not counted (default 1)\n"
	      "  --duration S         seconds counted (default 5, at most 600)\n"
	      "  --drain S            seconds to wait for the last responses (default 2)\n"
	      "  --tls                TLS 1.3 to the target (certificate not verified)\n"
	      "  --cpu-pid PID        measure this process tree's CPU over the window\n"
	      "                       (repeatable, at most 16)\n"
	      "  --label TEXT         copied into the JSON ([A-Za-z0-9._-], 64 at most)\n"
	      "  --seed N             random seed (default 1)\n"
	      "  --json               one JSON object on stdout\n", f);
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "connect", required_argument, NULL, 'C' },
		{ "connections", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 'z' },
		{ "model", required_argument, NULL, 'm' },
		{ "response-size", required_argument, NULL, 'Z' },
		{ "inflight", required_argument, NULL, 'w' },
		{ "rate", required_argument, NULL, 'r' },
		{ "arrivals", required_argument, NULL, 'a' },
		{ "max-inflight", required_argument, NULL, 'M' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "duration", required_argument, NULL, 'd' },
		{ "drain", required_argument, NULL, 'D' },
		{ "tls", no_argument, NULL, 't' },
		{ "cpu-pid", required_argument, NULL, 'p' },
		{ "label", required_argument, NULL, 'L' },
		{ "seed", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool size_set = false, inflight_set = false, max_inflight_set = false,
	     arrivals_set = false;
	const char *why;
	int ch;

	*o = (struct opts){
		.conns = 16, .size = 1400, .inflight = 1, .max_inflight = 64,
		.arrivals = MODEL_POISSON, .warmup_s = 1, .duration_s = 5, .drain_s = 2,
		.seed = 1,
	};
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'C':
			if (dp_addr_parse(optarg, &o->to, &why))
				usage_error("--connect '%s': %s", optarg, why);
			if (!is_lab_address(&o->to))
				usage_error("--connect '%s': only loopback and private addresses",
					    optarg);
			dp_addr_format(&o->to, o->to_text);
			break;
		case 'c':
			o->conns = (unsigned)parse_num("connections", optarg, 1, CONNS_MAX);
			break;
		case 'z':
			o->size = (uint32_t)parse_num("size", optarg, RR_WIRE_LEN_MIN,
						      RR_WIRE_LEN_MAX);
			size_set = true;
			break;
		case 'm':
			if (strcmp(optarg, "rr"))
				usage_error("--model '%s': the only model is rr (or give --size)",
					    optarg);
			o->model_rr = true;
			break;
		case 'Z':
			o->resp_size = (uint32_t)parse_num("response-size", optarg, RR_WIRE_LEN_MIN,
							   RR_WIRE_LEN_MAX);
			break;
		case 'w':
			o->inflight = (unsigned)parse_num("inflight", optarg, 1, INFLIGHT_MAX);
			inflight_set = true;
			break;
		case 'r':
			o->rate = parse_real("rate", optarg, 1, RATE_MAX);
			o->open_loop = true;
			break;
		case 'a':
			if (!strcmp(optarg, "poisson"))
				o->arrivals = MODEL_POISSON;
			else if (!strcmp(optarg, "fixed"))
				o->arrivals = MODEL_FIXED;
			else
				usage_error("--arrivals '%s': poisson or fixed", optarg);
			arrivals_set = true;
			break;
		case 'M':
			o->max_inflight = (unsigned)parse_num("max-inflight", optarg, 1,
							      INFLIGHT_MAX);
			max_inflight_set = true;
			break;
		case 'W': o->warmup_s = parse_real("warmup", optarg, 0, WARMUP_MAX_S); break;
		case 'd':
			o->duration_s = parse_real("duration", optarg, 0.1, DURATION_MAX_S);
			break;
		case 'D': o->drain_s = parse_real("drain", optarg, 0.1, DRAIN_MAX_S); break;
		case 't': o->tls = true; break;
		case 'p':
			if (o->n_cpu_pids == CPU_PIDS_MAX)
				usage_error("--cpu-pid %s: at most %d", optarg, CPU_PIDS_MAX);
			o->cpu_pid[o->n_cpu_pids++] = (pid_t)parse_num("cpu-pid", optarg, 1,
								       4194304);
			break;
		case 'L':
			if (strlen(optarg) > LABEL_MAX ||
			    strspn(optarg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				   "0123456789._-") != strlen(optarg))
				usage_error("--label '%s': at most %d of [A-Za-z0-9._-]", optarg,
					    LABEL_MAX);
			strcpy(o->label, optarg);
			break;
		case 's': o->seed = parse_num("seed", optarg, 0, ULONG_MAX); break;
		case 'j': o->json = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->to.family)
		usage_error("--connect ADDR:PORT is required");
	if (size_set && o->model_rr)
		usage_error("--size and --model rr exclude each other");
	if (o->open_loop && inflight_set)
		usage_error("--inflight is for the closed loop; with --rate use --max-inflight");
	if (!o->open_loop && (max_inflight_set || arrivals_set))
		usage_error("--max-inflight and --arrivals need --rate (open loop)");
}

static struct req *fifo_at(const struct load *l, struct conn *c, unsigned i)
{
	return &c->fifo[(c->head + i) & (l->cap - 1)];
}

static void conn_interest(struct load *l, struct conn *c)
{
	bool out = rr_buf_pending(&c->out) > 0;
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c };

	if (out == c->want_out || c->dead)
		return;
	c->want_out = out;
	epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* A broken connection: its counted requests will never complete. */
static void conn_fail(struct load *l, struct conn *c, const char *why)
{
	if (c->dead)
		return;
	fprintf(stderr, "rr_load: connection %u: %s\n", (unsigned)(c - l->conns), why);
	for (unsigned i = 0; i < c->n; i++) {
		if (fifo_at(l, c, i)->counted) {
			l->errors++;
			l->counted_open--;
		}
	}
	c->n = 0;
	c->dead = true;
	l->conns_failed++;
	epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
}

static ssize_t conn_write(struct conn *c, const void *p, size_t n)
{
	ssize_t w;

	if (c->ssl)
		return rr_tls_write(c->ssl, p, n);
	w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	return w < 0 ? -errno : w;
}

static ssize_t conn_read(struct conn *c, void *p, size_t n)
{
	ssize_t r;

	if (c->ssl)
		return rr_tls_read(c->ssl, p, n);
	r = recv(c->fd, p, n, MSG_DONTWAIT);
	return r < 0 ? -errno : r;
}

static void conn_flush(struct load *l, struct conn *c)
{
	while (!c->dead && rr_buf_pending(&c->out)) {
		ssize_t n = conn_write(c, rr_buf_head(&c->out), rr_buf_pending(&c->out));

		if (n == -EAGAIN)
			break;
		if (n < 0) {
			conn_fail(l, c, "send failed");
			return;
		}
		rr_buf_consume(&c->out, (size_t)n);
	}
	conn_interest(l, c);
}

/*
 * Start one request on @c, due at @due. @return 0, or -ENOBUFS when @c has
 * as many in flight as it may.
 */
static int issue(struct load *l, struct conn *c, uint64_t due)
{
	uint32_t size = l->o.model_rr ? model_rr_size(&l->rng) : l->o.size;
	struct rr_hdr h = {
		.magic = RR_WIRE_REQ, .req_len = size,
		.resp_len = l->o.resp_size ? l->o.resp_size : size, .seq = c->next_seq,
	};
	unsigned limit = l->o.open_loop ? l->o.max_inflight : l->o.inflight;
	struct req *r;

	if (c->dead || c->n >= limit)
		return -ENOBUFS;
	if (rr_buf_append_msg(&c->out, &h, size))
		return -ENOBUFS;
	r = fifo_at(l, c, c->n++);
	*r = (struct req){
		.due_ns = due, .req_len = h.req_len, .resp_len = h.resp_len, .seq = h.seq,
		.counted = due >= l->t0 && due < l->t1,
	};
	if (r->counted)
		l->counted_open++;
	c->next_seq++;
	conn_flush(l, c);
	return 0;
}

static void complete(struct load *l, struct conn *c, uint64_t now)
{
	struct req *r = fifo_at(l, c, 0);

	if (r->counted) {
		hdr_record(l->lat, now > r->due_ns ? now - r->due_ns : 0);
		l->requests++;
		l->bytes += (uint64_t)r->req_len + r->resp_len;
		l->counted_open--;
	}
	c->head = (c->head + 1) & (l->cap - 1);
	c->n--;
	if (!l->o.open_loop && now < l->t1)
		issue(l, c, now);
}

/* Parse @n response bytes. @return 0, or -EPROTO for a response that is not ours. */
static int parse(struct load *l, struct conn *c, const uint8_t *p, size_t n)
{
	while (n && !c->dead) {
		if (c->hdr_got < RR_WIRE_HDR) {
			size_t take = RR_WIRE_HDR - c->hdr_got;
			struct rr_hdr h;
			struct req *r;

			if (take > n)
				take = n;
			memcpy(c->hdr + c->hdr_got, p, take);
			c->hdr_got += (unsigned)take;
			p += take;
			n -= take;
			if (c->hdr_got < RR_WIRE_HDR)
				break;
			if (!c->n)
				return -EPROTO;		/* an answer nobody asked for */
			r = fifo_at(l, c, 0);
			if (!rr_wire_decode(c->hdr, RR_WIRE_RESP, &h) || h.seq != r->seq ||
			    h.req_len != r->req_len || h.resp_len != r->resp_len)
				return -EPROTO;
			c->body_left = h.resp_len - RR_WIRE_HDR;
		} else {
			size_t take = c->body_left < n ? c->body_left : n;

			p += take;
			n -= take;
			c->body_left -= (uint32_t)take;
		}
		if (c->hdr_got == RR_WIRE_HDR && !c->body_left) {
			c->hdr_got = 0;
			complete(l, c, now_ns());
		}
	}
	return 0;
}

static void conn_event(struct load *l, struct conn *c, uint32_t events)
{
	static uint8_t buf[65536];

	if (c->dead)
		return;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		while (!c->dead) {
			ssize_t n = conn_read(c, buf, sizeof(buf));

			if (n == -EAGAIN)
				break;
			if (n <= 0) {
				conn_fail(l, c, n == 0 ? "closed by the peer" : "receive failed");
				return;
			}
			if (parse(l, c, buf, (size_t)n)) {
				l->corrupt++;
				conn_fail(l, c, "a response that does not answer the request sent");
				return;
			}
		}
	}
	conn_flush(l, c);
}

static int conn_open(struct load *l, struct conn *c, char *err, size_t err_len)
{
	struct sockaddr_storage ss;
	socklen_t len = dp_addr_to_sockaddr(&l->o.to, &ss);
	struct timeval tv = { .tv_sec = CONNECT_TIMEOUT_S };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	int one = 1, rc;

	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto err_errno;
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&ss, len))
		goto err_errno;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (l->tls_ctx && rr_tls_connect(l->tls_ctx, c->fd, &c->ssl, err, err_len))
		return -EPROTO;
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) || epoll_ctl(l->ep, EPOLL_CTL_ADD, c->fd, &ev))
		goto err_errno;
	return 0;

err_errno:
	rc = -errno;
	snprintf(err, err_len, "%s", strerror(-rc));
	return rc;
}

static int load_setup(struct load *l)
{
	char err[256];
	unsigned need = l->o.open_loop ? l->o.max_inflight : l->o.inflight;

	l->cap = 1;
	while (l->cap < need)
		l->cap *= 2;
	rng_seed(&l->rng, l->o.seed);
	if (hdr_create(&l->lat))
		return -ENOMEM;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0)
		return -errno;
	if (l->o.tls && rr_tls_ctx_create(&l->tls_ctx)) {
		fprintf(stderr, "rr_load: cannot create a TLS context\n");
		return -EIO;
	}
	l->conns = calloc(l->o.conns, sizeof(*l->conns));
	if (!l->conns)
		return -ENOMEM;
	for (unsigned i = 0; i < l->o.conns; i++) {
		struct conn *c = &l->conns[i];

		c->fd = -1;
		/* Enough for every request in flight at the largest size, and then some. */
		rr_buf_init(&c->out, (size_t)l->cap * RR_WIRE_LEN_MAX + RR_WIRE_LEN_MAX);
		c->fifo = calloc(l->cap, sizeof(*c->fifo));
		if (!c->fifo)
			return -ENOMEM;
		if (conn_open(l, c, err, sizeof(err))) {
			fprintf(stderr, "rr_load: connection %u to %s: %s\n", i, l->o.to_text, err);
			return -ECONNREFUSED;
		}
	}
	return 0;
}

static void load_teardown(struct load *l)
{
	for (unsigned i = 0; l->conns && i < l->o.conns; i++) {
		struct conn *c = &l->conns[i];

		rr_tls_close(c->ssl);
		if (c->fd >= 0)
			close(c->fd);
		rr_buf_release(&c->out);
		free(c->fifo);
	}
	free(l->conns);
	rr_tls_ctx_destroy(l->tls_ctx);
	if (l->ep >= 0)
		close(l->ep);
	hdr_destroy(l->lat);
}

static void cpu_sample(struct load *l, double *into, double *each)
{
	unsigned vanished = 0;
	int rc;

	if (!l->o.n_cpu_pids || l->cpu_error)
		return;
	rc = proc_cpu_read(&l->cpu, into, &vanished, each);
	if (rc)
		l->cpu_error = rc;
	l->cpu_vanished = vanished;
}

/* Open loop: send every arrival that is due by @now and starts before the window ends. */
static void arrivals(struct load *l, uint64_t now)
{
	while (l->next_due_ns <= (double)now && l->next_due_ns < (double)l->t1) {
		uint64_t due = (uint64_t)l->next_due_ns;
		bool sent = false;

		/* The next live connection in turn, busy or not: a busy one skips. */
		for (unsigned k = 0; k < l->o.conns; k++) {
			struct conn *c = &l->conns[l->rr_next];

			l->rr_next = (l->rr_next + 1) % l->o.conns;
			if (!c->dead) {
				sent = issue(l, c, due) == 0;
				break;
			}
		}
		if (!sent && due >= l->t0)
			l->skipped++;
		l->next_due_ns += model_gap_ns(&l->rng, l->o.arrivals, l->o.rate);
	}
}

static bool all_dead(const struct load *l)
{
	for (unsigned i = 0; i < l->o.conns; i++)
		if (!l->conns[i].dead)
			return false;
	return true;
}

static void run(struct load *l)
{
	struct epoll_event evs[EVENTS];
	uint64_t start = now_ns();

	l->t0 = start + (uint64_t)(l->o.warmup_s * 1e9);
	l->t1 = l->t0 + (uint64_t)(l->o.duration_s * 1e9);
	l->t2 = l->t1 + (uint64_t)(l->o.drain_s * 1e9);
	l->next_due_ns = (double)start;
	if (!l->o.open_loop)
		for (unsigned i = 0; i < l->o.conns; i++)
			for (unsigned k = 0; k < l->o.inflight; k++)
				issue(l, &l->conns[i], start);

	for (;;) {
		uint64_t now = now_ns(), wake;
		struct timespec ts;
		int n;

		if (!l->cpu_started && now >= l->t0) {
			cpu_sample(l, &l->cpu_start_s, l->cpu_each_start);
			l->cpu_started = true;
		}
		if (!l->cpu_ended && now >= l->t1) {
			cpu_sample(l, &l->cpu_end_s, l->cpu_each_end);
			l->cpu_ended = true;
		}
		if (l->o.open_loop)
			arrivals(l, now);
		if ((now >= l->t1 && !l->counted_open) || all_dead(l))
			break;
		if (now >= l->t2) {
			l->timeouts = l->counted_open;
			break;
		}
		wake = l->t2;
		if (!l->cpu_started)
			wake = l->t0;
		else if (!l->cpu_ended)
			wake = l->t1;
		if (l->o.open_loop && l->next_due_ns < (double)l->t1 &&
		    (uint64_t)l->next_due_ns < wake)
			wake = (uint64_t)l->next_due_ns;
		wake = wake > now ? wake - now : 0;
		ts.tv_sec = (time_t)(wake / 1000000000u);
		ts.tv_nsec = (long)(wake % 1000000000u);
		n = epoll_pwait2(l->ep, evs, EVENTS, &ts, NULL);
		for (int i = 0; i < n; i++)
			conn_event(l, evs[i].data.ptr, evs[i].events);
	}
	if (!l->cpu_ended) {		/* every connection died early */
		cpu_sample(l, &l->cpu_end_s, l->cpu_each_end);
		l->cpu_ended = true;
	}
}

static double us(uint64_t ns)
{
	return (double)ns / 1e3;
}

static void report(const struct load *l)
{
	const struct opts *o = &l->o;
	double dur = o->duration_s, cpu = l->cpu_end_s - l->cpu_start_s;
	bool have_cpu = o->n_cpu_pids && !l->cpu_error;
	SSL *ssl = l->conns[0].ssl;

	if (!o->json) {
		printf("%s%s%.0f req/s  %.2f MB/s  p50 %.1f us  p99 %.1f us  max %.1f us",
		       o->label, *o->label ? ": " : "", (double)l->requests / dur,
		       (double)l->bytes / dur / 1e6, us(hdr_percentile(l->lat, 50)),
		       us(hdr_percentile(l->lat, 99)), us(hdr_max(l->lat)));
		if (have_cpu)
			printf("  cpu %.2f s  %.3g B/cpu-s", cpu,
			       cpu > 0 ? (double)l->bytes / cpu : 0);
		printf("  skipped %llu timeouts %llu errors %llu\n", (unsigned long long)l->skipped,
		       (unsigned long long)l->timeouts, (unsigned long long)l->errors);
		return;
	}
	printf("{\"schema\": \"rr_load/1\", \"label\": \"%s\", \"target\": \"%s\", ", o->label,
	       o->to_text);
	if (ssl)
		printf("\"tls\": {\"version\": \"%s\", \"cipher\": \"%s\"}, ", rr_tls_version(ssl),
		       rr_tls_cipher(ssl));
	else
		printf("\"tls\": null, ");
	printf("\"connections\": %u, \"model\": \"%s\", ", o->conns, o->model_rr ? "rr" : "fixed");
	if (o->model_rr)
		printf("\"size\": null, ");
	else
		printf("\"size\": %u, ", o->size);
	if (o->resp_size)
		printf("\"response_size\": %u, ", o->resp_size);
	else
		printf("\"response_size\": null, ");
	if (o->open_loop)
		printf("\"mode\": \"open\", \"rate\": %.1f, \"arrivals\": \"%s\", "
		       "\"max_inflight\": %u, ", o->rate, model_arrivals_name(o->arrivals),
		       o->max_inflight);
	else
		printf("\"mode\": \"closed\", \"inflight\": %u, ", o->inflight);
	printf("\"warmup_s\": %g, \"duration_s\": %g, \"requests\": %llu, "
	       "\"requests_per_s\": %.1f, \"bytes\": %llu, \"bytes_per_s\": %.1f, ",
	       o->warmup_s, dur, (unsigned long long)l->requests, (double)l->requests / dur,
	       (unsigned long long)l->bytes, (double)l->bytes / dur);
	printf("\"latency_us\": {\"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, \"p999\": %.1f, "
	       "\"max\": %.1f, \"mean\": %.1f}, ", us(hdr_percentile(l->lat, 50)),
	       us(hdr_percentile(l->lat, 90)), us(hdr_percentile(l->lat, 99)),
	       us(hdr_percentile(l->lat, 99.9)), us(hdr_max(l->lat)), hdr_mean(l->lat) / 1e3);
	printf("\"skipped\": %llu, \"timeouts\": %llu, \"errors\": %llu, \"corrupt\": %llu, "
	       "\"connections_failed\": %llu, ", (unsigned long long)l->skipped,
	       (unsigned long long)l->timeouts, (unsigned long long)l->errors,
	       (unsigned long long)l->corrupt, (unsigned long long)l->conns_failed);
	if (!have_cpu) {
		printf("\"cpu\": null}\n");
		return;
	}
	printf("\"cpu\": {\"processes\": [");
	for (unsigned i = 0; i < l->cpu.n; i++) {
		double a = l->cpu_each_start[i], b = l->cpu_each_end[i];

		/* comm is the kernel's name of the process; escape what JSON would not take. */
		printf("%s{\"pid\": %d, \"comm\": \"", i ? ", " : "", (int)l->cpu.pid[i]);
		for (const char *p = l->cpu.comm[i]; *p; p++)
			putchar(*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 ? '_' : *p);
		if (a < 0 || b < 0)
			printf("\", \"seconds\": null}");
		else
			printf("\", \"seconds\": %.3f}", b - a);
	}
	printf("], \"seconds\": %.3f, \"vanished\": %u, \"bytes_per_cpu_s\": %.1f}}\n", cpu,
	       l->cpu_vanished, cpu > 0 ? (double)l->bytes / cpu : 0.0);
}

int main(int argc, char **argv)
{
	struct load l = { .ep = -1 };
	int rc;

	parse_opts(&l.o, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	/* Open-loop arrivals are timed to the microsecond; the default 50 us slack blurs them. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	rc = load_setup(&l);
	if (rc) {
		if (rc == -ENOMEM)
			fprintf(stderr, "rr_load: out of memory\n");
		load_teardown(&l);
		return 1;
	}
	/* After the connections are up: a path that forks per connection is counted. */
	if (l.o.n_cpu_pids) {
		rc = proc_cpu_collect(&l.cpu, l.o.cpu_pid, l.o.n_cpu_pids);
		if (rc) {
			fprintf(stderr, "rr_load: --cpu-pid: %s\n", strerror(-rc));
			load_teardown(&l);
			return 2;
		}
	}
	run(&l);
	report(&l);
	load_teardown(&l);
	return l.errors || l.corrupt || l.conns_failed ? 1 : 0;
}
