/*
 * run.h — one `relaybench run`: start the fleet threads, step them through
 * the phases (worker.h), watch the clock, print progress, scrape the relay's
 * /metrics, and gather what everyone measured.
 *
 * Time line (every step bounded):
 *
 *	identities and sockets      (threads in parallel)
 *	gateway handshakes ─┐       until all are up, or --setup-timeout
 *	agent handshakes,   │       (from the first gateway INIT) runs out
 *	channel opens      ─┘
 *	warm-up                      --warmup
 *	measured window              --duration (scrapes at both ends)
 *	drain                        until nothing is in flight, at most --loss-timeout
 *	close channels, join threads
 *
 * With --agents 0 the run ends once the gateways' handshakes are done.
 * With a DPDK port, frames left from an earlier run are freed first, and the
 * port's counters and mbufs in use are taken before and after the run.
 * SIGINT/SIGTERM end it early (after closing channels): the result says so.
 *
 * Threads: the caller's thread only (it becomes the controller).
 */
#ifndef POSTERN_BENCH_RELAYBENCH_RUN_H
#define POSTERN_BENCH_RELAYBENCH_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/relaybench/ident.h"
#include "bench/relaybench/opts.h"
#include "bench/relaybench/prom.h"
#include "bench/relaybench/snmp.h"
#include "bench/relaybench/transport_dpdk.h"
#include "bench/relaybench/worker.h"

struct run_inputs {
	const struct ident_params *ident;
	const uint8_t *relay_pub;		/* 32 bytes */
	const uint8_t *psk;			/* 32 bytes or NULL */
	struct transport_dpdk_port *dpdk;	/* --transport dpdk: main.c's port; else NULL */
	volatile sig_atomic_t *stop;		/* set by a signal handler: end early */
};

#define RUN_SATURATED_CPU 0.90			/* of one CPU per fleet thread (or busy) */
#define RUN_BEHIND_RATIO 0.95			/* open loop: sent below 95% of offered */

struct run_result {
	struct worker_totals t;			/* everything the threads measured */
	uint64_t expected_handshakes, expected_channels;
	double setup_s;				/* first INIT → traffic starts (or run ends) */
	double handshake_s;			/* first INIT → last first handshake */
	double window_s;			/* the measured window as planned */
	bool setup_timed_out;
	int signal;				/* non-zero: ended early by this signal */
	/* Relay (with --metrics). */
	bool relay;				/* every scrape worked */
	struct prom_relay relay_run;		/* start of run → end of drain */
	struct prom_relay relay_window;		/* measure start → end of drain */
	char relay_error[160];			/* the first scrape failure, if any */
	/* The kernel's UDP counters of relaybench's network namespace. */
	bool kernel;				/* every read worked */
	struct snmp_udp kernel_udp;		/* the window (the run without agents) */
	/*
	 * Generator. Its load per thread is its CPU time over the window, or for a
	 * polling transport (t.tp.polling), which spins at 100 % CPU whatever the
	 * load, the share of the window its poll loop found work (t.busy[]).
	 */
	double cpu_max;				/* busiest fleet thread by that measure */
	bool saturated;				/* cpu_max > RUN_SATURATED_CPU */
	bool behind;				/* open loop: offered rate not reached */
	double offered;				/* open loop: rate × window, messages */
	/* --transport dpdk: the port over this run (mbufs in use at its start and end). */
	bool dpdk;
	struct transport_dpdk_info dpdk_info;
};

/*
 * Run the benchmark @o describes. Progress goes to stderr when @progress.
 * @return 0 and *@r filled (release it with run_result_fini()), or -errno
 * with one line in @err when the run could not happen: a thread failed to
 * set up, no gateway completed a handshake within --setup-timeout, or the
 * first /metrics scrape failed.
 */
int run_execute(const struct opts *o, const struct run_inputs *in, bool progress,
		struct run_result *r, char *err, size_t errlen);

void run_result_fini(struct run_result *r);

#endif /* POSTERN_BENCH_RELAYBENCH_RUN_H */
