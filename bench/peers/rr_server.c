/*
 * rr_server — the server side of bench/peers' request/response workload: a
 * single-threaded epoll TCP server that answers every request (rr_wire.h)
 * with a response of the length the request asks for, in order, on the
 * same connection. Requests may be pipelined.
 *
 *   rr_server --listen ADDR:PORT [--listen ...] [--max-conns N] [--max-seconds S]
 *
 * Runs until SIGTERM or SIGINT (or --max-seconds, default 3600: bounded), then
 * prints one line to stderr: connections, requests answered, bytes in and
 * out. A connection that sends anything but well-formed requests is closed
 * and counted as a protocol error.
 *
 * Addresses: loopback or private (RFC 1918 / ULA) only, like every bench
 * tool here.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/peers/rr_buf.h"
#include "bench/peers/rr_wire.h"
#include "dataplane/addr.h"

enum {
	LISTEN_MAX = 8,
	CONNS_MAX = 4096,
	OUT_LIMIT = 8 << 20,		/* a connection's unsent responses */
	OUT_PAUSE = 4 << 20,		/* stop reading its requests above this */
	EVENTS = 64,
};

struct conn {
	int fd;
	bool paused;			/* EPOLLIN off: too much unsent */
	bool want_out;			/* EPOLLOUT on */
	uint8_t hdr[RR_WIRE_HDR];
	unsigned hdr_got;
	uint32_t body_left;		/* request filler still to read */
	struct rr_hdr cur;
	struct rr_buf out;
};

struct server {
	int ep;
	int lfd[LISTEN_MAX];
	unsigned n_listen;
	unsigned max_conns, n_conns;
	uint64_t conns_total, requests, bytes_in, bytes_out, proto_errors;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static bool is_lab_address(const struct pkt_addr *a)
{
	const uint8_t *b = a->addr;
	static const uint8_t any[16], v6_loop[16] = { [15] = 1 };

	if (a->family == PKT_AF_INET)
		return b[0] == 127 || b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
		       (b[0] == 192 && b[1] == 168) || !memcmp(b, any, 4);
	return !memcmp(b, v6_loop, 16) || (b[0] & 0xfe) == 0xfc || !memcmp(b, any, 16);
}

static unsigned long parse_num(const char *opt, const char *s, unsigned long lo,
			       unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || v < lo || v > hi) {
		fprintf(stderr, "rr_server: --%s: '%s' is not a number from %lu to %lu\n", opt, s,
			lo, hi);
		exit(2);
	}
	return v;
}

static int listen_on(struct server *s, const struct pkt_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = dp_addr_to_sockaddr(a, &ss);
	struct epoll_event ev = { .events = EPOLLIN };
	int one = 1, fd;

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 1024)) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	ev.data.u64 = s->n_listen;	/* listeners: small integers; connections: pointers */
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev)) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	s->lfd[s->n_listen++] = fd;
	return 0;
}

static void conn_close(struct server *s, struct conn *c)
{
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	rr_buf_release(&c->out);
	free(c);
	s->n_conns--;
}

static void conn_interest(struct server *s, struct conn *c)
{
	bool out = rr_buf_pending(&c->out) > 0;
	bool pause = rr_buf_pending(&c->out) >= OUT_PAUSE;
	struct epoll_event ev = { .data.ptr = c };

	if (out == c->want_out && pause == c->paused)
		return;
	c->want_out = out;
	c->paused = pause;
	ev.events = (pause ? 0 : EPOLLIN) | (out ? EPOLLOUT : 0);
	epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void accept_all(struct server *s, int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		struct epoll_event ev = { .events = EPOLLIN };
		struct conn *c;

		if (fd < 0)
			return;
		if (s->n_conns >= s->max_conns || !(c = calloc(1, sizeof(*c)))) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		rr_buf_init(&c->out, OUT_LIMIT);
		ev.data.ptr = c;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(c);
			continue;
		}
		s->n_conns++;
		s->conns_total++;
	}
}

/* Send what is pending. @return 0, or -errno when the connection is broken. */
static int conn_flush(struct server *s, struct conn *c)
{
	while (rr_buf_pending(&c->out)) {
		ssize_t n = send(c->fd, rr_buf_head(&c->out), rr_buf_pending(&c->out),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		rr_buf_consume(&c->out, (size_t)n);
		s->bytes_out += (uint64_t)n;
	}
	return 0;
}

/*
 * Parse @n received bytes: header, then filler to discard; a complete request
 * queues its response. @return 0, or -EPROTO on a malformed request.
 */
static int conn_parse(struct server *s, struct conn *c, const uint8_t *p, size_t n)
{
	while (n) {
		if (c->hdr_got < RR_WIRE_HDR) {
			size_t take = RR_WIRE_HDR - c->hdr_got;

			if (take > n)
				take = n;
			memcpy(c->hdr + c->hdr_got, p, take);
			c->hdr_got += (unsigned)take;
			p += take;
			n -= take;
			if (c->hdr_got < RR_WIRE_HDR)
				break;
			if (!rr_wire_decode(c->hdr, RR_WIRE_REQ, &c->cur))
				return -EPROTO;
			c->body_left = c->cur.req_len - RR_WIRE_HDR;
		} else {
			size_t take = c->body_left < n ? c->body_left : n;

			p += take;
			n -= take;
			c->body_left -= (uint32_t)take;
		}
		if (c->hdr_got == RR_WIRE_HDR && !c->body_left) {
			struct rr_hdr r = c->cur;

			r.magic = RR_WIRE_RESP;
			if (rr_buf_append_msg(&c->out, &r, r.resp_len))
				return -ENOBUFS;
			s->requests++;
			c->hdr_got = 0;
		}
	}
	return 0;
}

/* @return 0 to keep the connection, -1 to close it. */
static int conn_event(struct server *s, struct conn *c, uint32_t events)
{
	static uint8_t buf[65536];

	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		for (int rounds = 0; rounds < 16 && !c->paused; rounds++) {
			ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (n == 0)
				return -1;
			if (n < 0) {
				if (errno == EAGAIN)
					break;
				return -1;
			}
			s->bytes_in += (uint64_t)n;
			if (conn_parse(s, c, buf, (size_t)n)) {
				s->proto_errors++;
				return -1;
			}
			if (rr_buf_pending(&c->out) >= OUT_PAUSE)
				break;
		}
	}
	if (conn_flush(s, c))
		return -1;
	conn_interest(s, c);
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: rr_server --listen ADDR:PORT [--listen ADDR:PORT ...]\n"
	      "                 [--max-conns N] [--max-seconds S]\n"
	      "Answers bench/peers requests (bench/peers/rr_wire.h) until SIGTERM.\n", f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "max-conns", required_argument, NULL, 'c' },
		{ "max-seconds", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pkt_addr addrs[LISTEN_MAX];
	struct epoll_event evs[EVENTS];
	struct server s = { .max_conns = 1024 };
	unsigned n_addrs = 0;
	unsigned long max_seconds = 3600;
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec t0, t;
	const char *why;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			if (n_addrs == LISTEN_MAX) {
				fprintf(stderr, "rr_server: at most %d --listen\n", LISTEN_MAX);
				return 2;
			}
			if (dp_addr_parse(optarg, &addrs[n_addrs], &why)) {
				fprintf(stderr, "rr_server: --listen '%s': %s\n", optarg, why);
				return 2;
			}
			if (!is_lab_address(&addrs[n_addrs])) {
				fprintf(stderr, "rr_server: --listen '%s': only wildcard, loopback "
					"and private addresses\n", optarg);
				return 2;
			}
			n_addrs++;
			break;
		case 'c':
			s.max_conns = (unsigned)parse_num("max-conns", optarg, 1, CONNS_MAX);
			break;
		case 's': max_seconds = parse_num("max-seconds", optarg, 1, 86400); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !n_addrs) {
		usage(stderr);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	if (s.ep < 0) {
		perror("rr_server: epoll_create1");
		return 1;
	}
	for (unsigned i = 0; i < n_addrs; i++) {
		char text[DP_ADDR_TEXT_MAX];

		rc = listen_on(&s, &addrs[i]);
		if (rc) {
			dp_addr_format(&addrs[i], text);
			fprintf(stderr, "rr_server: listen %s: %s\n", text, strerror(-rc));
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop) {
		int n = epoll_wait(s.ep, evs, EVENTS, 200);

		if (n < 0 && errno != EINTR) {
			perror("rr_server: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			/* Listeners carry their index (< LISTEN_MAX), connections a pointer. */
			if (evs[i].data.u64 < LISTEN_MAX)
				accept_all(&s, s.lfd[evs[i].data.u64]);
			else if (conn_event(&s, c, evs[i].events))
				conn_close(&s, c);
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((unsigned long)(t.tv_sec - t0.tv_sec) >= max_seconds)
			break;
	}
	fprintf(stderr, "rr_server: connections=%llu requests=%llu bytes_in=%llu bytes_out=%llu "
		"protocol_errors=%llu\n", (unsigned long long)s.conns_total,
		(unsigned long long)s.requests, (unsigned long long)s.bytes_in,
		(unsigned long long)s.bytes_out, (unsigned long long)s.proto_errors);
	return 0;
}
