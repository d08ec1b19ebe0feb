/*
 * udp_load — a bounded UDP load generator for the relay's socket backend:
 * F flows (one connected socket each, so F source ports that SO_REUSEPORT
 * spreads over the relay's workers) send B-packet sendmmsg batches, round
 * robin, until N packets or S seconds, whichever comes first. With --recv it
 * also counts what comes back (sock_bench's echo core returns everything).
 *
 *   udp_load --to 127.0.0.1:51820 [--seconds 5] [--count 10000000] [--size 64]
 *            [--flows 16] [--batch 32] [--pps 0] [--recv] [--fill random|zero]
 *
 * Loopback and lab addresses only: it refuses a destination that is not
 * loopback, link-local or private (RFC 1918 / ULA), so it cannot flood a
 * real network by mistake. The payload starts with byte 0xee, a packet type
 * the hop protocol does not have (docs/protocol.md §2), so a real relay drops
 * every packet as bad_header and answers none.
 *
 * Prints one line: sent=N received=N seconds=X send_pps=X recv_pps=X.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/addr.h"

enum {
	MAX_FLOWS = 1024,
	MAX_BATCH = 256,
	MAX_SIZE = 1452,
	MAX_SECONDS = 300,
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Loopback, link-local, RFC 1918 or ULA: somewhere a flood hurts nobody else. */
static bool is_lab_address(const struct pkt_addr *a)
{
	const uint8_t *b = a->addr;
	static const uint8_t v6_loop[16] = { [15] = 1 };

	if (a->family == PKT_AF_INET)
		return b[0] == 127 || b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
		       (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254);
	return !memcmp(b, v6_loop, 16) || (b[0] & 0xfe) == 0xfc ||
	       (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

static unsigned long parse_num(const char *opt, const char *s, unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || v < lo || v > hi) {
		fprintf(stderr, "udp_load: --%s must be %lu..%lu\n", opt, lo, hi);
		exit(2);
	}
	return v;
}

static void drain(const int *fds, unsigned n, unsigned long *received, struct mmsghdr *msgs,
		  unsigned batch)
{
	for (unsigned f = 0; f < n; f++) {
		int got;

		while ((got = recvmmsg(fds[f], msgs, batch, MSG_DONTWAIT, NULL)) > 0)
			*received += (unsigned long)got;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 'z' },
		{ "flows", required_argument, NULL, 'f' },
		{ "batch", required_argument, NULL, 'b' },
		{ "pps", required_argument, NULL, 'p' },
		{ "recv", no_argument, NULL, 'r' },
		{ "fill", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static uint8_t payload[MAX_SIZE], rxbuf[MAX_BATCH][2048];
	static struct mmsghdr msgs[MAX_BATCH], rxmsgs[MAX_BATCH];
	static struct iovec iov, rxiov[MAX_BATCH];
	static int fds[MAX_FLOWS];
	struct pkt_addr to = { 0 };
	struct sockaddr_storage ss;
	unsigned long seconds = 5, count = 10000000, size = 64, flows = 16, batch = 32, pps = 0;
	unsigned long sent = 0, received = 0;
	bool recv = false, random_fill = true;
	const char *why;
	double t0, t_end, elapsed;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (dp_addr_parse(optarg, &to, &why)) {
				fprintf(stderr, "udp_load: --to %s: %s\n", optarg, why);
				return 2;
			}
			break;
		case 's': seconds = parse_num("seconds", optarg, 1, MAX_SECONDS); break;
		case 'n': count = parse_num("count", optarg, 1, 1000000000); break;
		case 'z': size = parse_num("size", optarg, 0, MAX_SIZE); break;
		case 'f': flows = parse_num("flows", optarg, 1, MAX_FLOWS); break;
		case 'b': batch = parse_num("batch", optarg, 1, MAX_BATCH); break;
		case 'p': pps = parse_num("pps", optarg, 0, 100000000); break;
		case 'r': recv = true; break;
		case 'F':
			if (strcmp(optarg, "random") && strcmp(optarg, "zero")) {
				fprintf(stderr, "udp_load: --fill random|zero\n");
				return 2;
			}
			random_fill = !strcmp(optarg, "random");
			break;
		case 'h':
			puts("usage: udp_load --to ADDR:PORT [--seconds S] [--count N] [--size B]\n"
			     "                [--flows F] [--batch B] [--pps R] [--recv]\n"
			     "                [--fill random|zero]");
			return 0;
		default:
			return 2;
		}
	}
	if (!to.family) {
		fprintf(stderr, "udp_load: --to ADDR:PORT is required\n");
		return 2;
	}
	if (!is_lab_address(&to)) {
		fprintf(stderr, "udp_load: refusing a destination outside loopback and "
			"private ranges\n");
		return 2;
	}
	srand((unsigned)getpid());
	for (unsigned long i = 0; i < size; i++)
		payload[i] = random_fill ? (uint8_t)rand() : 0;
	if (size)
		payload[0] = 0xee;	/* no such hop packet type: bad_header at a relay */
	socklen_t len = dp_addr_to_sockaddr(&to, &ss);

	for (unsigned f = 0; f < flows; f++) {
		int buf = 4 << 20;

		fds[f] = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fds[f] < 0 || connect(fds[f], (struct sockaddr *)&ss, len)) {
			perror("udp_load: socket/connect");
			return 1;
		}
		setsockopt(fds[f], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
		setsockopt(fds[f], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	}
	iov.iov_base = payload;
	iov.iov_len = size;
	for (unsigned i = 0; i < batch; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
		rxiov[i].iov_base = rxbuf[i];
		rxiov[i].iov_len = sizeof(rxbuf[i]);
		rxmsgs[i].msg_hdr.msg_iov = &rxiov[i];
		rxmsgs[i].msg_hdr.msg_iovlen = 1;
	}

	t0 = now_s();
	t_end = t0 + (double)seconds;
	for (unsigned f = 0; sent < count; f = (f + 1) % (unsigned)flows) {
		unsigned long want = count - sent < batch ? count - sent : batch;
		double t = now_s();
		int n;

		if (t >= t_end)
			break;
		if (pps && (double)sent > (t - t0) * (double)pps) {
			struct timespec nap = { .tv_nsec = 50000 };

			if (recv)
				drain(fds, (unsigned)flows, &received, rxmsgs, (unsigned)batch);
			nanosleep(&nap, NULL);
			continue;
		}
		n = sendmmsg(fds[f], msgs, (unsigned)want, 0);
		if (n > 0)
			sent += (unsigned long)n;
		if (recv)
			drain(fds, (unsigned)flows, &received, rxmsgs, (unsigned)batch);
	}
	elapsed = now_s() - t0;
	if (recv) {
		/* Stragglers: what the relay still had queued. */
		double stop = now_s() + 0.2;

		while (now_s() < stop)
			drain(fds, (unsigned)flows, &received, rxmsgs, (unsigned)batch);
	}
	for (unsigned f = 0; f < flows; f++)
		close(fds[f]);
	printf("sent=%lu received=%lu seconds=%.3f send_pps=%.0f recv_pps=%.0f\n", sent, received,
	       elapsed, (double)sent / elapsed, (double)received / elapsed);
	return 0;
}
