/*
 * core.h — the relay core's private structures, shared by its .c files and
 * by nothing else (backends see relay.h and worker.h only).
 *
 * Packet accounting (stats.h): every mbuf inside the core is one of two kinds,
 * recorded in its pkt_meta.handoff (bit ACCT_ORIGINATED):
 *   received    came from the backend; its outcome (forwarded, handled or
 *               dropped[reason]) is counted exactly once, by whichever worker
 *               finishes with it (a handoff moves it to the owner)
 *   originated  built by the core (send_alloc(), or a received mbuf reused for
 *               an answer after its own outcome was counted); counted in
 *               `originated` once, and in lost[reason] if it never leaves
 * The acct_*() helpers below are the only places that bump outcome counters.
 */
#ifndef POSTERN_RELAY_CORE_H
#define POSTERN_RELAY_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_spinlock.h>

#include "crypto/cookie.h"
#include "relay/channel.h"
#include "relay/pkt.h"
#include "relay/relay.h"
#include "relay/session.h"
#include "relay/stats.h"
#include "relay/worker.h"

struct directory;
struct identity;
struct ratelimit;
struct rte_ring;
struct rte_rcu_qsbr;

enum {
	TX_QUEUE_MAX = 64,		/* packets buffered before the backend's TX is called */
	STAGE_MAX = 64,			/* packets buffered per destination worker */
	INBOX_SIZE = 4096,		/* each worker's ring */
	POLL_BURST = 64,		/* ring entries taken per poll */
	PROLOGUE_LEN = 10,		/* "postern/1" + suite byte, protocol.md §3.2 */
	ACCT_ORIGINATED = 1u << 8,	/* pkt_meta.handoff: built by the core */
	ACCT_KIND_MASK = 0xff,		/* pkt_meta.handoff: handoff kind or TX outcome */
	ACCT_REASON_SHIFT = 16,		/* pkt_meta.handoff: CLOSE reason of HANDOFF_CLOSE */
	TRUST_GONE_MAX = 64,		/* untrusted signer ids a snapshot remembers */
	TRUST_RETIRED_MAX = 16,		/* snapshots awaiting a grace period */
};

/*
 * What channels.list shows of a channel end besides struct chan (inspect.h),
 * in a table beside the ends, indexed by the same slot: struct chan, which
 * the channel hash and the splice read per packet, stays small, and only the
 * byte counters (one more cache line per CHANNEL_DATA) are hot. Written by
 * the end's owner only. An agent end learns its gateway side from ACCEPTED.
 */
struct chan_info {
	uint64_t bytes_in;		/* CHANNEL_DATA payload from this end's endpoint */
	uint64_t bytes_out;		/* CHANNEL_DATA payload toward this end's endpoint */
	uint64_t peer_session;		/* agent end: the gateway's session handle */
	uint32_t peer_id;		/* agent end: the channel id on the gateway's session */
	char tunnel[TOKEN_NAME_MAX + 1];	/* agent end: from its CHANNEL_OPEN */
	char route[TOKEN_NAME_MAX + 1];
};

/*
 * A worker's mailbox for control-plane requests (inspect.h). The main thread
 * posts, the worker answers on its next poll. States and who moves them:
 *	IDLE    → POSTED   main: req set, then a release store
 *	POSTED  → BUSY     worker: compare-and-swap (acquire), then it answers
 *	BUSY    → DONE     worker: answer written, release store
 *	POSTED  → IDLE     main: gave up (compare-and-swap): the worker never
 *	                   touches the request
 *	DONE    → IDLE     main: answer read
 * The worker's only cost without a request is one relaxed load per poll.
 */
enum { INSPECT_IDLE, INSPECT_POSTED, INSPECT_BUSY, INSPECT_DONE };

struct inspect_req;

struct inspect_mbox {
	uint32_t state;			/* atomic: INSPECT_* above */
	struct inspect_req *req;	/* valid from POSTED until the main thread resets it */
	size_t total;			/* the worker's answer: entries it holds */
	int result;			/* the worker's answer: 0 or -errno */
} __rte_cache_aligned;

/*
 * One published trust store (relay.h, relay_trust_*). Immutable once
 * published: workers read it without a lock between two quiescent points.
 * @gone lists the signer ids untrusted at runtime and not trusted again
 * (newest last), so a worker that missed several generations still ends every
 * session whose signer is gone; token_trust has no signer-id lookup.
 */
struct trust_snap {
	const struct token_trust *trust;	/* what handshakes verify against */
	struct token_trust *owned;		/* == trust, or NULL for relay_params.trust */
	uint64_t gen;				/* 0 for the initial snapshot */
	unsigned n_gone;
	uint8_t gone[TRUST_GONE_MAX][TOKEN_SIGNER_ID_LEN];
};

struct trust_retired {
	struct trust_snap *snap;
	uint64_t token;				/* rte_rcu_qsbr_start() after the swap */
};

/* TX outcome, stored in the kind bits while a packet waits in the TX queue. */
enum { TX_FORWARDED = 1, TX_HANDLED = 2 };

struct relay {
	struct relay_params p;		/* static_priv wiped on destroy */
	uint8_t static_pub[HOP_KEY_LEN];
	unsigned instance;		/* makes rte object names unique in the process */
	struct relay_worker *w[RELAY_MAX_WORKERS];
	struct identity *ident;		/* static key → session handle, all workers */
	struct directory *dir;		/* (tenant, tunnel) → gateway sessions */
	struct rte_rcu_qsbr *qsbr;	/* one reader thread id per worker */
	int64_t unix_offset_ns;		/* Unix time = now_ns + this (atomic) */
	uint32_t drain_ms;		/* atomic; valid once draining is set */
	bool draining;			/* atomic */
	struct trust_snap *trust;	/* atomic (acquire/release); main thread swaps it */
	uint32_t max_sessions;		/* atomic (relaxed); relay_set_limits(), <= p's */
	uint32_t max_channels;		/* atomic (relaxed); relay_set_limits() */
	uint32_t handshake_budget;	/* atomic (relaxed); relay_set_admission() */
	uint32_t handshake_rate;	/* atomic (relaxed); relay_set_admission() */
	uint64_t token_skew_s;		/* atomic (relaxed); relay_set_admission() */
	unsigned n_retired;		/* main thread only */
	struct trust_retired retired[TRUST_RETIRED_MAX];
};

/* Per-packet state of one received DATA packet while its frames are acted on. */
struct rx_ctx {
	struct rte_mbuf *m;		/* the packet, decrypted in place */
	bool single;			/* one frame: its mbuf may carry the answer */
	bool taken;			/* m was reused for an answer (now originated) */
	bool counted;			/* the packet's outcome has been counted */
	bool forwarded;			/* some CHANNEL_DATA frame of it was forwarded */
};

struct stage {
	unsigned n;
	struct rte_mbuf *m[STAGE_MAX];
};

struct relay_worker {
	struct relay *r;
	unsigned id;
	uint64_t now;			/* of the current burst or poll */

	relay_tx_fn tx;
	void *tx_ctx;
	relay_wake_fn wake;
	void *wake_ctx;
	struct rte_ring *inbox;		/* MP/SC: other workers → this one */
	struct stage *stage;		/* [n_workers]: this one → others, flushed per burst */
	unsigned ntx;
	struct rte_mbuf *txq[TX_QUEUE_MAX];

	struct relay_stats stats;	/* written here only */

	struct cookie_checker cookies;
	struct ratelimit *rl;
	uint32_t rl_rate;		/* the rate rl was last set to */
	unsigned hs_burst;		/* handshakes computed in this burst */
	uint64_t load_until_ns;		/* "under load" (§5.2) until then */

	struct sessions sess;
	struct channels chans;
	struct chan_info *chinfo;	/* [chans capacity], beside chans.c */
	uint64_t kicked;		/* sessions ended by sessions.kick (inspect.h) */

	uint32_t sweep_sess;		/* timer cursor */
	uint64_t next_sweep_ns;

	uint64_t trust_gen;		/* generation last swept (relay_worker_poll) */

	bool drain_started;		/* GOAWAYs sent */
	bool drain_done;		/* deadline passed, channels shut */
	uint64_t drain_end_ns;

	struct inspect_mbox mbox;	/* its own cache line: the main thread writes it */
} __rte_cache_aligned;

/* worker.c: a worker's tables, rings and cookie checker (relay_create). */
int worker_create(struct relay *r, unsigned id, struct relay_worker **out);
void worker_destroy(struct relay_worker *w);

static inline bool acct_is_originated(struct rte_mbuf *m)
{
	return pkt_meta(m)->handoff & ACCT_ORIGINATED;
}

/* Turn @m into an originated packet: from now on its fate is not a received outcome. */
static inline void acct_originate(struct relay_worker *w, struct rte_mbuf *m)
{
	pkt_meta(m)->handoff = ACCT_ORIGINATED;
	w->stats.originated++;
}

/* Discard @m under @reason (dropped[] if received, lost[] if originated). */
static inline void acct_drop(struct relay_worker *w, struct rte_mbuf *m, enum relay_drop reason)
{
	if (acct_is_originated(m))
		w->stats.lost[reason]++;
	else
		w->stats.dropped[reason]++;
	rte_pktmbuf_free(m);
}

/* @m was consumed by the relay (keepalive, a frame acted on): handled. */
static inline void acct_consume(struct relay_worker *w, struct rte_mbuf *m)
{
	if (!acct_is_originated(m))
		w->stats.handled++;
	rte_pktmbuf_free(m);
}

/* Unix seconds at @ns of the worker's clock (the core never reads a clock). */
static inline uint64_t core_unix_at(const struct relay_worker *w, uint64_t ns)
{
	int64_t t = (int64_t)ns + __atomic_load_n(&w->r->unix_offset_ns, __ATOMIC_RELAXED);

	return t > 0 ? (uint64_t)t / 1000000000u : 0;
}

/* Unix seconds now, for token validity. */
static inline uint64_t core_unix_now(const struct relay_worker *w)
{
	return core_unix_at(w, w->now);
}

/*
 * The trust store of the moment. Valid until this worker's next quiescent
 * point (relay_worker_poll), so read it once per handshake or sweep.
 */
static inline const struct trust_snap *core_trust(const struct relay_worker *w)
{
	return __atomic_load_n(&w->r->trust, __ATOMIC_ACQUIRE);
}

static inline bool core_draining(const struct relay_worker *w)
{
	return w->drain_started;
}

/* The channel limit of the moment (relay_set_limits); read once per CHANNEL_OPEN. */
static inline uint32_t core_max_channels(const struct relay_worker *w)
{
	return __atomic_load_n(&w->r->max_channels, __ATOMIC_RELAXED);
}

/*
 * CHANNEL_DATA payload bytes through end @c (splice.c), for channels.list:
 * @n bytes received from its own endpoint, or sent toward it.
 */
static inline void chan_count_in(struct relay_worker *w, const struct chan *c, uint32_t n)
{
	w->chinfo[c - w->chans.c].bytes_in += n;
}

static inline void chan_count_out(struct relay_worker *w, const struct chan *c, uint32_t n)
{
	w->chinfo[c - w->chans.c].bytes_out += n;
}

#endif /* POSTERN_RELAY_CORE_H */
