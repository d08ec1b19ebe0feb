/*
 * metrics.h — the relay's counters in the Prometheus text exposition format,
 * version 0.0.4 (what GET /metrics serves).
 *
 * Every family has one # HELP and one # TYPE line before its samples, and all
 * its samples together. Names start with postern_relay_ (the core's per-worker
 * counters, label worker="N"; drops also carry reason="bad_mac1" etc., the
 * names of relay/stats.h) or postern_control_ (the control loop itself).
 * Counters end in _total. Every drop reason of every worker is present, zero
 * or not, so rate() works from the first scrape. docs/control.md lists them.
 *
 * No I/O. Threads: stateless; any thread.
 */
#ifndef POSTERN_RELAY_METRICS_H
#define POSTERN_RELAY_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "relay/control.h"
#include "relay/stats.h"

/* The content type to serve the output with. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_input {
	const struct relay_stats *per_worker;	/* [0..n_workers) */
	unsigned n_workers;
	bool ready;				/* postern_relay_ready 1 or 0 */
	const struct control_counters *control;	/* NULL: no postern_control_ families */
};

/*
 * Render @in. @return 0 with *@out (malloc'd, NUL-terminated; the caller frees
 * it) and *@len set, or -ENOMEM.
 */
int metrics_render(const struct metrics_input *in, char **out, size_t *len);

#endif /* POSTERN_RELAY_METRICS_H */
