/*
 * sock_bench — the socket backend alone: EAL, pool, the backend's workers and
 * an echo core (bench/echo_core.c) that returns every packet to its sender.
 * Drive it with udp_load; it prints what each worker spent per packet.
 *
 *   taskset -c 1 build/bench/sock_bench --io uring --workers 1 --seconds 10 &
 *   taskset -c 0 build/bench/udp_load --to 127.0.0.1:51820 --seconds 5 --recv
 *
 * Output, one line per worker and a total, key=value:
 *   worker=0 rx_packets=N tx_packets=N busy_cycles=N busy_packets=N
 *   cycles_per_packet=X idle_cycles=N sleeps=N wakeups=N
 * A measurement tool, not a test: nothing here asserts anything.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#include "dataplane/addr.h"
#include "dataplane/eal.h"
#include "dataplane/sock.h"
#include "relay/relay.h"

static void usage(FILE *out)
{
	fputs("usage: sock_bench [--io mmsg|uring] [--workers N] [--listen ADDR:PORT]...\n"
	      "                  [--seconds S] [--memory-mb MB]\n"
	      "Runs the socket backend with an echo core until S seconds pass (default 10)\n"
	      "or SIGINT/SIGTERM, then prints each worker's counters.\n", out);
}

static void print_worker(const char *who, const struct relay_stats *s,
			 const struct dp_sock_io_stats *io)
{
	printf("%s rx_packets=%llu tx_packets=%llu dropped=%llu busy_cycles=%llu "
	       "busy_packets=%llu cycles_per_packet=%.0f idle_cycles=%llu",
	       who, (unsigned long long)s->rx_packets, (unsigned long long)s->tx_packets,
	       (unsigned long long)relay_stats_dropped(s), (unsigned long long)s->busy_cycles,
	       (unsigned long long)s->busy_packets,
	       s->busy_packets ? (double)s->busy_cycles / (double)s->busy_packets : 0.0,
	       (unsigned long long)s->idle_cycles);
	if (io)
		printf(" rx_calls=%llu sleeps=%llu wakeups=%llu rx_nombuf=%llu tx_again=%llu",
		       (unsigned long long)io->rx_calls, (unsigned long long)io->sleeps,
		       (unsigned long long)io->wakeups, (unsigned long long)io->rx_nombuf,
		       (unsigned long long)io->tx_again);
	putchar('\n');
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "io", required_argument, NULL, 'i' },
		{ "workers", required_argument, NULL, 'w' },
		{ "listen", required_argument, NULL, 'l' },
		{ "seconds", required_argument, NULL, 's' },
		{ "memory-mb", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pkt_addr listen[DP_SOCK_MAX_LISTEN];
	unsigned n_listen = 0, workers = 1, seconds = 10, memory_mb = DP_EAL_MEMORY_MB_DEFAULT;
	enum dp_sock_io io = DP_SOCK_IO_MMSG;
	struct relay_params rp;
	struct rte_mempool *pool = NULL;
	struct relay *relay = NULL;
	struct dp_sock *dp = NULL;
	struct relay_stats total;
	char err[512];
	const char *why;
	sigset_t sigs;
	struct timespec ts;
	int ch, ret = 1;
	unsigned missing;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			if (dp_sock_io_parse(optarg, &io))
				return fprintf(stderr, "sock_bench: --io mmsg|uring\n"), 2;
			break;
		case 'w':
			workers = (unsigned)atoi(optarg);
			break;
		case 'l':
			if (n_listen == DP_SOCK_MAX_LISTEN ||
			    dp_addr_parse(optarg, &listen[n_listen++], &why))
				return fprintf(stderr, "sock_bench: --listen %s: bad\n", optarg), 2;
			break;
		case 's':
			seconds = (unsigned)atoi(optarg);
			break;
		case 'm':
			memory_mb = (unsigned)atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!n_listen)
		dp_addr_parse("127.0.0.1:51820", &listen[n_listen++], &why);

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	struct dp_eal_params ep = {
		.n_workers = workers, .memory_mb = memory_mb, .log_level = 4 /* RTE_LOG_ERR */,
	};
	if (dp_eal_init(&ep, err, sizeof(err))) {
		fprintf(stderr, "sock_bench: %s\n", err);
		goto out;
	}
	if (dp_eal_pool_create(&pool, dp_eal_pool_size(workers, dp_sock_mbufs_per_worker(io) + 256),
			       err, sizeof(err))) {
		fprintf(stderr, "sock_bench: %s\n", err);
		goto out;
	}
	relay_params_default(&rp);
	rp.n_workers = workers;
	rp.pool = pool;
	if (relay_create(&relay, &rp)) {
		fprintf(stderr, "sock_bench: cannot create the echo core\n");
		goto out;
	}
	struct dp_sock_params sp = {
		.listen = listen, .n_listen = n_listen, .io = io, .pool = pool, .relay = relay,
	};
	if (dp_sock_create(&dp, &sp, err, sizeof(err)) || dp_sock_start(dp, err, sizeof(err))) {
		fprintf(stderr, "sock_bench: %s\n", err);
		goto out;
	}
	fprintf(stderr, "sock_bench: running %s, %u workers, %u s\n", dp_sock_io_detail(dp),
		workers, seconds);
	ts.tv_sec = seconds;
	ts.tv_nsec = 0;
	sigtimedwait(&sigs, NULL, &ts);
	dp_sock_stop(dp);

	for (unsigned w = 0; w < workers; w++) {
		struct dp_sock_io_stats ios;
		char who[32];

		dp_sock_io_stats(dp, w, &ios);
		snprintf(who, sizeof(who), "worker=%u", w);
		print_worker(who, relay_worker_stats(relay_get_worker(relay, w)), &ios);
	}
	relay_stats_total(relay, &total);
	print_worker("total", &total, NULL);
	ret = 0;
out:
	dp_sock_destroy(dp);
	relay_destroy(relay);
	missing = dp_eal_pool_free(pool);
	if (missing) {
		fprintf(stderr, "sock_bench: %u mbufs not returned to the pool\n", missing);
		ret = 1;
	}
	dp_eal_cleanup();
	return ret;
}
