/*
 * relay.h — the relay core: sessions, admission, channels and splice, shared
 * by every dataplane backend.
 *
 * A struct relay owns N workers. Each worker owns its sessions outright: their
 * keys, TX counters, replay windows and channel tables. Other workers reach a
 * session only by handing a packet or a message to its owner through the
 * owner's rte_ring. Read-mostly state shared by all workers (the tunnel
 * directory, the trust store) is published lock-free.
 *
 * The core knows nothing about sockets or NICs: it consumes and produces
 * rte_mbufs whose data is a hop packet and whose private area is a struct
 * pkt_meta (relay/pkt.h). A backend (dataplane/) creates the mempool, calls
 * relay_create(), attaches a TX function to each worker and runs each
 * worker's loop on its own thread (worker.h).
 *
 * Threads: relay_create/relay_destroy on the main thread, with no worker running.
 * relay_drain() may be called from any thread.
 */
#ifndef POSTERN_RELAY_RELAY_H
#define POSTERN_RELAY_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/token.h"
#include "relay/stats.h"

struct rte_mempool;
struct relay;
struct relay_worker;

enum {
	RELAY_MAX_WORKERS = 64,
};

struct relay_params {
	unsigned n_workers;			/* 1..RELAY_MAX_WORKERS */
	uint8_t static_priv[32];		/* relay's X25519 key; copied, caller wipes its own */
	uint8_t psk[32];			/* deployment PSK, zero unless configured */
	unsigned suites;			/* bit n accepts suite n (HOP_SUITES_*) */
	const struct token_trust *trust;	/* borrowed; must outlive the relay */
	uint64_t token_skew_s;			/* clock allowance for token validity */
	uint32_t max_sessions;			/* whole relay; each worker gets its share */
	uint32_t max_channels;			/* per session */
	uint32_t max_channel_ends;		/* per worker; a channel has one end per side */
	uint32_t handshake_budget;		/* handshakes per worker per burst, then cookies */
	uint32_t handshake_rate;		/* INITs/s per source address, under load */
	struct rte_mempool *pool;		/* mbufs with PKT_PRIV_SIZE private bytes */
};

/* Sensible defaults for every field but the key, trust and pool. */
void relay_params_default(struct relay_params *p);

/*
 * Create the relay core and its workers (not yet running).
 * @return 0, -EINVAL for bad params, -ENOMEM.
 */
int relay_create(struct relay **out, const struct relay_params *p);

/* Free everything; every worker loop must have returned. Wipes keys. */
void relay_destroy(struct relay *r);

/*
 * Tell the core what Unix time it is: @unix_ns (CLOCK_REALTIME) was read at
 * the same moment as @now_ns on the clock the backend passes to the workers.
 * Token validity (protocol.md §6.2) needs wall-clock time and the core reads
 * no clock, so call it once before the workers start (until then every token
 * looks not yet valid: fail closed) and again whenever the wall clock may have
 * stepped (e.g. once a second from the main thread). Any thread.
 */
void relay_set_clock(struct relay *r, uint64_t now_ns, uint64_t unix_ns);

unsigned relay_worker_count(const struct relay *r);
struct relay_worker *relay_get_worker(struct relay *r, unsigned id);
const struct relay_stats *relay_worker_stats(const struct relay_worker *w);

/* Add every worker's counters into @sum (gauges too). */
void relay_stats_total(const struct relay *r, struct relay_stats *sum);

/*
 * Start draining: each worker, on its next poll, sends GOAWAY (drain time
 * @drain_ms) to every session it owns and refuses new handshakes
 * (shutting_down). Channels keep forwarding. relay_is_drained() becomes true
 * once every worker has sent its GOAWAYs and holds no channel.
 */
void relay_drain(struct relay *r, uint32_t drain_ms);
bool relay_is_drained(const struct relay *r);

#endif /* POSTERN_RELAY_RELAY_H */
