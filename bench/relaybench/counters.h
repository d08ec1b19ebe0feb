/*
 * counters.h — what one fleet thread counts, in one flat struct of 64-bit
 * counters so that threads can be summed and published generically.
 *
 * "Window" counters count only packets and messages whose send time lies in
 * the measured window [measure start, measure end): warm-up traffic and
 * traffic still draining from before are left out, and anything sent inside
 * is followed to its end (echoed, lost or late) even after the window. The
 * "all_" counters count everything, for the per-second progress line.
 *
 * Publication: the owning thread copies its counters with counters_publish()
 * (relaxed atomic stores, every 100 ms); another thread reads the copy with
 * counters_snapshot() (relaxed atomic loads). Values of one snapshot may be a
 * few increments apart from each other; each one is whole.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_COUNTERS_H
#define POSTERN_BENCH_RELAYBENCH_COUNTERS_H

#include <stdint.h>

#define COUNTERS_FIELDS(X)						\
	/* Setup. */							\
	X(hs_started)		/* hop_client_connect() calls */	\
	X(hs_done)		/* endpoints that completed a first handshake */ \
	X(gw_up)							\
	X(ag_up)							\
	X(disconnects)		/* DISCONNECTED events */		\
	X(goaways)							\
	X(ch_opening)		/* CHANNEL_OPEN sent */			\
	X(ch_opened)		/* CHANNEL_ACCEPT received */		\
	X(ch_refused)		/* CHANNEL_CLOSE instead of ACCEPT */	\
	X(ch_closed)		/* open channel closed by the relay */	\
	X(gw_channels)		/* OPENs a gateway accepted */		\
	/* Traffic in the window (by send time). */			\
	X(msgs_sent)							\
	X(msgs_done)		/* every chunk echoed in time */	\
	X(msgs_lost)		/* not complete within the loss timeout */ \
	X(msgs_skipped)		/* open loop: no free message slot on the channel */ \
	X(pkts_sent)							\
	X(pkts_echoed)		/* back within the loss timeout, first copy */ \
	X(pkts_late)		/* back after the loss timeout */	\
	X(pkts_reordered)	/* back after a higher sequence number */ \
	X(pkts_duplicate)						\
	X(bytes_sent)		/* E2E bytes */				\
	X(bytes_echoed)							\
	/* Any time. */							\
	X(tx_errors)		/* agent packets the transport refused */ \
	X(not_connected)	/* agent packets not sealed: no keypair */ \
	X(pkts_corrupt)		/* echo that fails the payload check */	\
	X(echo_errors)		/* gateway echoes the transport refused */ \
	X(echoed_by_gw)							\
	X(all_msgs_sent)						\
	X(all_msgs_done)						\
	X(all_msgs_lost)						\
	X(all_pkts_sent)						\
	X(all_pkts_echoed)						\
	X(all_bytes_echoed)						\
	/* Gauges. */							\
	X(inflight)		/* messages in flight now */		\
	X(drained)		/* 1: past the window with nothing in flight */ \
	X(interval_p99_ns)	/* packet RTT p99 over the last second */

struct counters {
#define COUNTERS_DECLARE(name) uint64_t name;
	COUNTERS_FIELDS(COUNTERS_DECLARE)
#undef COUNTERS_DECLARE
};

/* @dst += @src, field by field (gauges too; interval_p99_ns takes the max). */
void counters_add(struct counters *dst, const struct counters *src);

/* Copy @src to @pub with relaxed atomic stores (the owner thread). */
void counters_publish(struct counters *pub, const struct counters *src);

/* Copy @pub to @dst with relaxed atomic loads (any thread). */
void counters_snapshot(struct counters *dst, const struct counters *pub);

#endif /* POSTERN_BENCH_RELAYBENCH_COUNTERS_H */
