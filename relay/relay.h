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
 * relay_drain() may be called from any thread; relay_trust_*(),
 * relay_set_limits() and the control plane's requests (inspect.h) from the
 * main thread only (one writer).
 */
#ifndef POSTERN_RELAY_RELAY_H
#define POSTERN_RELAY_RELAY_H

#include <stdbool.h>
#include <stddef.h>
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
	const struct token_trust *trust;	/* the first; borrowed, must outlive the relay */
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

/*
 * After every worker loop has returned and before the last stats are read:
 * drop the packets still in flight between workers (staged or in a handoff
 * ring), counted as dropped[shutting_down], so the final counters balance.
 * Main thread. relay_destroy() does it too.
 */
void relay_discard_pending(struct relay *r);

/*
 * Change the trust store while the workers run (protocol.md §6.3). Each call
 * copies the current store (token_trust_dup), applies the one change, and
 * publishes the copy with an atomic pointer swap: handshakes from then on
 * verify against it, lock-free. Every worker, on its next relay_worker_poll(),
 * also ends its sessions that the change condemns — admitted with a token id
 * now revoked, or signed by a key no longer trusted — closing their channels
 * with PEER_GONE toward the other side, as any session death does.
 *
 * Ownership: relay_params.trust stays the caller's and is never modified or
 * freed by the relay (it must still outlive it). Every copy is the relay's:
 * a superseded copy is freed once every worker has passed a quiescent point,
 * by a later relay_trust_*() or relay_trust_reclaim() call, and the last one
 * by relay_destroy().
 *
 * @return 0;
 *	revoke: -ENOMEM (revoking an id again is fine and publishes nothing new)
 *	add_signer: -EEXIST already trusted, -ENOSPC TOKEN_MAX_SIGNERS trusted,
 *	            -EINVAL key refused
 *	remove_signer: -ENOENT not trusted
 *	all: -EBUSY when 16 superseded stores still await their grace period
 *	     (some worker not polling); -ENOMEM.
 * On error nothing is published.
 */
int relay_trust_revoke(struct relay *r, const uint8_t id[TOKEN_ID_LEN]);
int relay_trust_add_signer(struct relay *r, const uint8_t pub[TOKEN_KEY_LEN]);
int relay_trust_remove_signer(struct relay *r, const uint8_t pub[TOKEN_KEY_LEN]);

/*
 * Several changes published as one store, for a configuration reload: first
 * @remove signers, then @add signers, then @revoke ids. Unlike the calls
 * above it skips what is already so (a signer trusted or not trusted, an id
 * revoked), and publishes nothing when nothing changes. Workers end the
 * sessions the new store condemns, as above.
 * @return 0 (*@changed: whether a store was published); -ENOSPC (more than
 * TOKEN_MAX_SIGNERS would be trusted), -EINVAL (a key refused), -EBUSY,
 * -ENOMEM. On error nothing is published.
 */
struct relay_trust_batch {
	const uint8_t (*remove)[TOKEN_KEY_LEN];
	unsigned n_remove;
	const uint8_t (*add)[TOKEN_KEY_LEN];
	unsigned n_add;
	const uint8_t (*revoke)[TOKEN_ID_LEN];
	size_t n_revoke;
};
int relay_trust_apply(struct relay *r, const struct relay_trust_batch *b, bool *changed);

/*
 * Free the superseded trust stores every worker is done with. Main thread;
 * call it now and then (e.g. once a second). @return how many remain.
 */
unsigned relay_trust_reclaim(struct relay *r);

/* @return the generation of the published trust store: 0, then +1 per change. */
uint64_t relay_trust_generation(const struct relay *r);

/*
 * Change limits while the workers run; each worker reads them with a relaxed
 * load when it admits a session or opens a channel, so the change holds for
 * new sessions and channels from the workers' next handshake or OPEN (those
 * above a lowered limit stay). @max_sessions may not exceed the
 * relay_params.max_sessions the tables were sized for: more needs a new relay.
 * @return 0; -ERANGE (@max_sessions above that, or below n_workers),
 * -EINVAL (@max_channels 0). On error nothing changes.
 */
int relay_set_limits(struct relay *r, uint32_t max_sessions, uint32_t max_channels);

/*
 * Change how handshakes are admitted while the workers run (relay_params'
 * fields of the same names): each worker reads them with a relaxed load per
 * INIT, so the next INIT meets the new values. A lower budget or rate holds
 * from then on; per-source buckets keep at most the new rate's burst.
 * A budget of 0 keeps every worker under load (cookies first), as at create.
 * @return 0; -EINVAL (@handshake_rate 0). On error nothing changes.
 */
int relay_set_admission(struct relay *r, uint32_t handshake_budget, uint32_t handshake_rate,
			uint64_t token_skew_s);

/*
 * @return true if @psk is the PSK the relay was created with (constant time),
 * so a reload can tell whether the PSK file's content changed.
 */
bool relay_psk_equal(const struct relay *r, const uint8_t psk[32]);

/* @return how many sessions the control plane ended (sessions.kick), all workers. */
uint64_t relay_sessions_kicked(const struct relay *r);

#endif /* POSTERN_RELAY_RELAY_H */
