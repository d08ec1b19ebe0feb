/*
 * worker.h — one fleet thread: a share of the emulated gateways and agents,
 * their hop clients, one transport, and the event loop that drives them.
 *
 * Endpoint i of a role belongs to thread i % threads. Each thread makes its
 * endpoints' identities (ident.h) and sockets, then follows the phases the
 * run controller (run.c) publishes in struct worker_shared:
 *
 *	SETUP      make identities, hop clients and flows; then count in ready
 *	GATEWAYS   start gateway handshakes, paced at handshake_rate / threads
 *	AGENTS     start agent handshakes, same pace; each agent opens its
 *	           channels as soon as it is connected
 *	TRAFFIC    agents send: closed loop (refill each channel to W messages
 *	           in flight) or open loop (arrivals at rate / threads); nothing
 *	           new after measure_end_ns, in-flight messages drain
 *	CLOSE      agents close their open channels; the thread returns
 *	ABORT      the thread returns at once
 *
 * The loop, each turn: handshake ramp → open-loop arrivals → every 10 ms the
 * hop clients' timers, the loss scan and (every 100 ms) counter publication
 * → transport_poll() until the next of those is due. Everything that arrives
 * is handled inside the poll, in the hop client's callbacks: gateways echo
 * CHANNEL_DATA, agents account for echoes and, closed loop, send the next
 * message at once.
 *
 * Transport: kernel UDP, or with worker_config.dpdk the DPDK port's queue
 * pair `id` (transport_dpdk.h); the thread then registers with EAL while it
 * runs and polls the transport every 64 identities while it makes them, so
 * that frames other threads hand it never wait long.
 *
 * Threads: worker_create/start/join/collect/destroy on the controller's
 * thread; worker_published() may be read while the worker runs.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_WORKER_H
#define POSTERN_BENCH_RELAYBENCH_WORKER_H

#include <stdint.h>

#include "bench/relaybench/counters.h"
#include "bench/relaybench/hdr.h"
#include "bench/relaybench/ident.h"
#include "bench/relaybench/opts.h"
#include "bench/relaybench/transport.h"
#include "bench/relaybench/transport_dpdk.h"
#include "endpoint/hop_client.h"
#include "wire/frame.h"

enum worker_phase {
	WORKER_SETUP,
	WORKER_GATEWAYS,
	WORKER_AGENTS,
	WORKER_TRAFFIC,
	WORKER_CLOSE,
	WORKER_ABORT,
};

/* Written by the controller, read by every worker (atomics). */
struct worker_shared {
	int phase;			/* enum worker_phase; store-release / load-acquire */
	uint64_t measure_start_ns;	/* set before phase becomes TRAFFIC */
	uint64_t measure_end_ns;
	uint32_t ready;			/* workers done with SETUP (fetch-add) */
	uint32_t failed;		/* workers that gave up (fetch-add) */
};

struct worker_config {
	unsigned id, threads;
	const struct opts *o;
	const struct ident_params *ident;
	const uint8_t *relay_pub;	/* 32 bytes, copied by each hop client */
	const uint8_t *psk;		/* 32 bytes or NULL */
	struct transport_dpdk_port *dpdk;	/* --transport dpdk: the port; NULL: kernel UDP */
	struct worker_shared *sh;
};

enum { WORKER_CLOSE_REASONS = FRAME_CLOSE_TIMEOUT + 2 };	/* last: unknown codes */

/* Everything the threads measured, summed (worker_collect()). */
struct worker_totals {
	struct counters c;
	struct transport_stats tp;
	struct hdr *hs_latency;		/* connect → first handshake, ns */
	struct hdr *open_latency;	/* CHANNEL_OPEN → ACCEPT, ns */
	struct hdr *rtt;		/* packet round trip, window, ns */
	struct hdr *msg_latency;	/* message first chunk sent → last echoed, window, ns */
	struct hdr *lag;		/* open loop: arrival due → sent, window, ns */
	uint64_t refused_by[WORKER_CLOSE_REASONS];	/* refused opens by CHANNEL_CLOSE reason */
	uint64_t hop_inits, hop_retransmits, hop_cookies, hop_give_ups, hop_keepalives;
	uint64_t hop_send_errors, hop_drops[HOP_CLIENT_DROP_MAX];
	uint64_t hs_first_ns, hs_last_ns;	/* first connect, last first-handshake */
	unsigned n_threads;
	double cpu[OPTS_THREADS_MAX];		/* user+sys / wall over the window */
	double cpu_user[OPTS_THREADS_MAX], cpu_sys[OPTS_THREADS_MAX];
	/*
	 * A polling transport (tp.polling) keeps its thread at 100 % CPU: its
	 * load is the share of the window its poll loop was not idle.
	 */
	double busy[OPTS_THREADS_MAX];		/* 1 - idle / wall over the window */
};

struct worker;

/* Allocate a worker (no sockets, no identities yet). @return 0, -ENOMEM. */
int worker_create(struct worker **out, const struct worker_config *cfg);

/* Start its thread (signals blocked in it). @return 0 or -errno. */
int worker_start(struct worker *w);

/* Wait for the thread. @return 0, or the -errno it failed with (worker_error()). */
int worker_join(struct worker *w);

/* @return what went wrong, one line, or "" . */
const char *worker_error(const struct worker *w);

/* The counters as last published; read with counters_snapshot(). */
const struct counters *worker_published(const struct worker *w);

/* Prepare @t for worker_collect(). @return 0 or -ENOMEM. */
int worker_totals_init(struct worker_totals *t);
void worker_totals_fini(struct worker_totals *t);

/* Add joined worker @w's results to @t (its thread's CPU at index n_threads++). */
void worker_collect(const struct worker *w, struct worker_totals *t);

/* Free @w (after worker_join(), or if never started). NULL is a no-op. */
void worker_destroy(struct worker *w);

#endif /* POSTERN_BENCH_RELAYBENCH_WORKER_H */
