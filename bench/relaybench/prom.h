/*
 * prom.h — read the relay's counters from its /metrics page (Prometheus text
 * format 0.0.4, as relay/metrics.c writes it; the names are listed in
 * docs/control.md).
 *
 * Only postern_relay_* families are kept, summed over the worker label; busy
 * cycles and packets are also kept per worker, and drops per reason. Other
 * families and comment lines are skipped. prom_relay_delta() turns two
 * scrapes into what happened between them.
 *
 * Threads: pure functions; no allocation.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_PROM_H
#define POSTERN_BENCH_RELAYBENCH_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	PROM_REASONS_MAX = 64,
	PROM_REASON_LEN = 32,		/* a reason name, NUL included */
	PROM_WORKERS_MAX = 64,
};

struct prom_relay {
	bool seen;			/* at least one postern_relay_ sample */
	unsigned n_workers;		/* highest worker label + 1 */
	/* Counters, summed over workers. */
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t forwarded, handled, originated, handoff_out, handoff_in;
	uint64_t handshakes, cookies_sent;
	uint64_t busy_cycles, idle_cycles, busy_packets;
	uint64_t dropped_total, lost_total;
	/* Gauges, summed over workers. */
	uint64_t sessions, channels;
	/* Per worker. */
	uint64_t worker_busy_cycles[PROM_WORKERS_MAX];
	uint64_t worker_busy_packets[PROM_WORKERS_MAX];
	/* Drops by reason, summed over workers, in order of first appearance. */
	unsigned n_reasons;
	char reason[PROM_REASONS_MAX][PROM_REASON_LEN];
	uint64_t dropped[PROM_REASONS_MAX];
};

/*
 * Parse the @len bytes of @text into *@out (zeroed first).
 * @return 0; -EBADMSG if a sample line of a postern_relay_ family does not
 * parse (name{labels} value); -ENOENT if there is no postern_relay_ sample at
 * all (not a Postern relay's page).
 */
int prom_parse_relay(const char *text, size_t len, struct prom_relay *out);

/*
 * What happened between two scrapes: counters after - before (0 if the
 * relay restarted and a counter went backwards), gauges as @after has them.
 * Reasons are matched by name.
 */
void prom_relay_delta(const struct prom_relay *before, const struct prom_relay *after,
		      struct prom_relay *delta);

/* @return the busy cycles per packet in @d (0 without packets), all workers. */
double prom_cycles_per_packet(const struct prom_relay *d);

#endif /* POSTERN_BENCH_RELAYBENCH_PROM_H */
