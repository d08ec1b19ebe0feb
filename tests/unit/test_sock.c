/*
 * test_sock.c — the socket backend's count of kernel receive drops
 * (dataplane/sock.h, dp_sock_metrics), with both I/O engines.
 *
 *   sender ──UDP, loopback──▶ 127.0.0.1:P  worker 0's socket, SO_RCVBUF 4 KiB
 *                                          │ (worker not yet running: the buffer fills,
 *                                          │  the kernel drops the rest)
 *                                          ▼ later: worker 0 → relay core (drops them:
 *                                                   not hop packets)
 *
 * A few thousand datagrams are sent before the worker runs, so the socket's
 * small buffer overflows: dp_sock_metrics() must count the drops, and once
 * the worker has read what the buffer held, every datagram sent must be
 * either received by the relay core or counted as dropped — exactly.
 *
 * Each test runs in its own process (Criterion forks) with its own EAL
 * (dp_eal_init: --no-huge, a per-process file prefix, one worker lcore).
 * Waits are bounded polls of a few seconds: the worker is a real thread on a
 * busy machine.
 */
#define _GNU_SOURCE		/* usleep */

#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_log.h>
#include <rte_mempool.h>

#include "crypto/keys.h"
#include "crypto/token.h"
#include "dataplane/eal.h"
#include "dataplane/sock.h"
#include "relay/metrics.h"
#include "relay/relay.h"
#include "relay/stats.h"

enum {
	SENT = 3000,		/* datagrams in the flood */
	SIZE = 1000,		/* bytes each: a 4 KiB buffer holds a handful */
	SOCK_BUF = 4096,	/* the kernel doubles it: 8 KiB with bookkeeping */
	WAIT_MS = 5000,
};

static struct rte_mempool *pool;
static struct token_trust *trust;
static struct relay *relay;
static struct dp_sock *sock;
static struct metrics_backend *mb;

static void up(void)
{
	struct dp_eal_params ep = { .n_workers = 1, .memory_mb = 128, .log_level = RTE_LOG_ERR };
	struct relay_params rp;
	char err[256] = "";

	cr_assert_eq(dp_eal_init(&ep, err, sizeof(err)), 0, "dp_eal_init: %s", err);
	cr_assert_eq(dp_eal_pool_create(&pool, dp_eal_pool_size(1, 8192), err, sizeof(err)), 0,
		     "pool: %s", err);
	cr_assert_eq(token_trust_create(&trust), 0);
	relay_params_default(&rp);
	rp.n_workers = 1;
	cr_assert_eq(keys_generate(rp.static_priv), 0);
	rp.trust = trust;
	rp.max_sessions = 16;
	rp.max_channel_ends = 64;
	rp.pool = pool;
	cr_assert_eq(relay_create(&relay, &rp), 0);
	relay_set_clock(relay, 1, (uint64_t)time(NULL) * 1000000000ull);
	mb = aligned_alloc(_Alignof(struct metrics_backend), sizeof(*mb));
	cr_assert_not_null(mb);
}

static void down(void)
{
	free(mb);
	dp_sock_destroy(sock);
	relay_destroy(relay);
	token_trust_destroy(trust);
	cr_assert_eq(dp_eal_pool_free(pool), 0, "mbufs not back in the pool");
	dp_eal_cleanup();
}

TestSuite(sock, .init = up, .fini = down, .timeout = 60);

/* The backend on 127.0.0.1 at a port nobody holds (one the kernel just gave out). */
static uint16_t create(enum dp_sock_io io)
{
	char err[256] = "";

	for (int attempt = 0; attempt < 5; attempt++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t alen = sizeof(a);
		int fd = socket(AF_INET, SOCK_DGRAM, 0), ret;
		struct pkt_addr listen = { .family = PKT_AF_INET, .addr = { 127, 0, 0, 1 } };
		struct dp_sock_params p = { .listen = &listen, .n_listen = 1, .io = io,
					    .sock_buf = SOCK_BUF, .pool = pool, .relay = relay };

		cr_assert_geq(fd, 0);
		cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
		cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
		close(fd);
		listen.port = ntohs(a.sin_port);
		ret = dp_sock_create(&sock, &p, err, sizeof(err));
		if (ret == 0)
			return listen.port;
		cr_assert_eq(ret, -EADDRINUSE, "dp_sock_create: %s", err);
	}
	cr_assert_fail("no free port in 5 attempts");
	return 0;
}

/* What /metrics would show of the one socket. */
static struct metrics_socket scrape(void)
{
	memset(mb, 0, sizeof(*mb));
	dp_sock_metrics(sock, mb);
	cr_assert_eq(mb->n_sockets, 1);
	cr_assert_eq(mb->n_ports, 0);
	return mb->sockets[0];
}

static void flood(uint16_t port)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static char payload[SIZE];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	cr_assert_geq(fd, 0);
	memset(payload, 'x', sizeof(payload));	/* not a hop packet: the core drops it */
	for (unsigned i = 0; i < SENT; i++)
		cr_assert_eq(sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&to,
				    sizeof(to)), (ssize_t)sizeof(payload), "sendto %u", i);
	close(fd);
}

static uint64_t core_rx(void)
{
	return relay_worker_stats(relay_get_worker(relay, 0))->rx_packets;
}

static void drops_are_counted_exactly(enum dp_sock_io io)
{
	char err[256] = "", want[32];
	struct metrics_socket s;
	uint16_t port = create(io);
	uint64_t dropped;
	int ret;

	s = scrape();
	snprintf(want, sizeof(want), "127.0.0.1:%u", port);
	cr_assert_str_eq(s.listen, want);
	cr_assert_eq(s.worker, 0);
	cr_assert_eq(s.rx_drops, 0, "a fresh socket shows %lu drops", (unsigned long)s.rx_drops);

	flood(port);
	dropped = scrape().rx_drops;
	cr_assert(dropped >= SENT / 2 && dropped < SENT,
		  "%lu of %u datagrams dropped, want most but not all", (unsigned long)dropped,
		  SENT);
	cr_assert_eq(scrape().rx_drops, dropped, "a second read counts them again");

	ret = dp_sock_start(sock, err, sizeof(err));
	if (ret && io == DP_SOCK_IO_URING && (ret == -ENOSYS || ret == -EPERM))
		cr_skip_test("io_uring is not available here: %s", err);
	cr_assert_eq(ret, 0, "dp_sock_start: %s", err);
	/* Everything the buffer held reaches the core; nothing else ever arrives. */
	for (unsigned ms = 0; ms < WAIT_MS && core_rx() < SENT - dropped; ms += 10)
		usleep(10000);
	usleep(100000);
	cr_assert_eq(core_rx() + dropped, SENT,
		     "received %lu + dropped %lu != sent %u", (unsigned long)core_rx(),
		     (unsigned long)dropped, SENT);
	cr_assert_eq(relay_stats_dropped(relay_worker_stats(relay_get_worker(relay, 0))),
		     SENT - dropped, "not a hop packet, yet not dropped");
	cr_assert_eq(scrape().rx_drops, dropped, "drops changed while the worker read");
	dp_sock_stop(sock);
}

Test(sock, kernel_drops_are_counted_exactly_mmsg)
{
	drops_are_counted_exactly(DP_SOCK_IO_MMSG);
}

Test(sock, kernel_drops_are_counted_exactly_uring)
{
	drops_are_counted_exactly(DP_SOCK_IO_URING);
}
