/*
 * sweep.h — `relaybench sweep`: step the offered open-loop rate and find the
 * knee, the highest rate at which the relay still meets a service level:
 * packet loss below --max-loss and message latency p99 below --slo-p99.
 *
 * Each step is one complete run (run.h) at rate_from × (rate_to /
 * rate_from)^(i / (steps - 1)): handshakes (the same identities every step,
 * so the relay renews their sessions), warm-up, window, drain. The sweep
 * stops at the first step that misses, because every faster step would miss
 * too and only load the relay for nothing. A step at which relaybench itself
 * was saturated or fell behind its offered rate proves nothing about the
 * relay: the sweep then stops and says the generator was the limit.
 *
 * Threads: the caller's (run.h's controller).
 */
#ifndef POSTERN_BENCH_RELAYBENCH_SWEEP_H
#define POSTERN_BENCH_RELAYBENCH_SWEEP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/relaybench/opts.h"
#include "bench/relaybench/run.h"

#define SWEEP_SCHEMA "relaybench.sweep/1"

/* Why a sweep ended where it did. */
enum sweep_limit {
	SWEEP_LIMIT_RELAY,		/* a step missed the service level */
	SWEEP_LIMIT_GENERATOR,		/* relaybench saturated or behind first */
	SWEEP_LIMIT_SETUP,		/* handshakes or channels incomplete */
	SWEEP_LIMIT_RANGE,		/* every step passed: the knee is above rate_to */
	SWEEP_LIMIT_INTERRUPTED,
};

struct sweep_step {
	double rate;			/* offered, messages per second */
	double achieved;		/* sent ÷ window */
	double completed;		/* completed ÷ window */
	uint64_t msgs_sent, pkts_sent, pkts_lost;
	double loss;			/* packet loss ratio */
	uint64_t p50_ns, p99_ns;	/* message latency */
	uint64_t rtt_p99_ns;		/* packet round trip */
	double relay_cpp;		/* relay busy cycles per packet (0: no --metrics) */
	uint64_t relay_drops;
	double cpu_max;			/* busiest relaybench thread */
	bool saturated, behind, setup_ok, pass;
	char why[96];			/* what missed, when !pass */
};

struct sweep_result {
	unsigned n;
	struct sweep_step step[OPTS_STEPS_MAX];
	int knee;			/* index of the highest passing step, or -1 */
	enum sweep_limit limit;
};

/*
 * Run the sweep @o describes (o->sweep set). A line per step goes to stderr.
 * @return 0 and *@r; or -errno and one line in @err when a step could not run
 * at all (as run_execute()).
 */
int sweep_execute(const struct opts *o, const struct run_inputs *in, bool progress,
		  struct sweep_result *r, char *err, size_t errlen);

/* The table on @f. */
void sweep_table(FILE *f, const struct opts *o, const struct sweep_result *r);

/* One JSON object (schema SWEEP_SCHEMA) on @f. @return 0, -ENOMEM or -EIO. */
int sweep_json(FILE *f, const struct opts *o, const struct sweep_result *r);

#endif /* POSTERN_BENCH_RELAYBENCH_SWEEP_H */
