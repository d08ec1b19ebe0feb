/*
 * timers.h — the relay's timers, run from relay_worker_poll() (protocol.md §4).
 *
 *	keypair older than REJECT_AFTER_TIME (180 s)       → freed
 *	session with no keypair for SESSION_IDLE_TIMEOUT   → destroyed: its
 *	  (3 × 180 s after its newest keypair expired)        channels get PEER_GONE
 *	channel end OPENING / ACCEPTING for 10 s           → CLOSE TIMEOUT to its endpoint
 *	rate-limit bucket idle for 1 s                     → forgotten
 *
 * No timer wheel: at most once per millisecond a poll sweeps the next
 * TIMERS_SLICE slots of each table, so a full pass over N slots takes
 * N / TIMERS_SLICE ms and a poll never does more than a bounded amount of
 * work. Timers therefore fire up to a pass late, which none of these needs
 * to be exact about. The relay never starts a handshake (§4).
 *
 * Threads: the owning worker.
 */
#ifndef POSTERN_RELAY_TIMERS_H
#define POSTERN_RELAY_TIMERS_H

#include <stdint.h>

struct relay_worker;

enum {
	TIMERS_SLICE = 256,
};

#define TIMERS_PERIOD_NS UINT64_C(1000000)

/* @return how many timers fired (0 when nothing was due). */
unsigned timers_run(struct relay_worker *w);

#endif /* POSTERN_RELAY_TIMERS_H */
