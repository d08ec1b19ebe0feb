/*
 * channel.h — channel ends and the CHANNEL_OPEN / ACCEPT / CLOSE exchange
 * (protocol.md §7).
 *
 * A channel joins an agent session and a gateway session. Each side is a
 * channel end owned by the worker that owns its session:
 *
 *	struct chan { id on its own session, its session, peer = handle of the other end }
 *
 * States of an end, and what moves it:
 *	OPENING    agent end: OPEN checked and sent toward the gateway's worker;
 *	           peer unknown yet
 *	ACCEPTING  gateway end: OPEN sent to the gateway, waiting for its ACCEPT;
 *	           peer = the agent end
 *	OPEN       both ends know each other; CHANNEL_DATA is spliced
 *	free       after a CLOSE either way, a timeout (10 s in OPENING or
 *	           ACCEPTING: CLOSE TIMEOUT), session death (PEER_GONE toward the
 *	           peer), or the end of a drain (SHUTDOWN)
 *
 * The exchange, with A the agent's worker and G the gateway's (maybe the same):
 *
 *	agent  --OPEN(a)-->  A: grant, directory, agent end a OPENING
 *	                     A --HANDOFF_OPEN{agent end, OPEN frame}--> G
 *	                     G: gateway end g ACCEPTING --OPEN(g, principal)--> gateway
 *	gateway --ACCEPT(g)--> G: g OPEN --HANDOFF_ACCEPTED{g}--> A: a OPEN --ACCEPT(a)--> agent
 *	either side --CLOSE--> its worker frees its end --HANDOFF_CLOSE{reason}--> peer's
 *	                     worker frees the peer end --CLOSE(reason)--> the other endpoint
 *
 * A message for an end that no longer exists meets a stale handle: an
 * ACCEPTED is answered with CLOSE PEER_GONE toward the gateway, anything else
 * is counted lost[stale_handle].
 *
 * Threads: the owning worker only. Messages from other workers arrive through
 * handoff.h.
 */
#ifndef POSTERN_RELAY_CHANNEL_H
#define POSTERN_RELAY_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "relay/slots.h"

struct frame_open;
struct frame_close;
struct rte_hash;
struct rte_mbuf;
struct relay_worker;
struct session;
struct rx_ctx;

enum chan_state {
	CHAN_FREE,
	CHAN_OPENING,
	CHAN_ACCEPTING,
	CHAN_OPEN,
};

/* protocol.md §7: a gateway that has not accepted within 10 s gets CLOSE TIMEOUT. */
#define CHANNEL_OPEN_TIMEOUT_NS (UINT64_C(10) * 1000000000)

#define CHAN_NIL UINT32_MAX

struct chan {
	uint32_t gen;
	uint8_t state;		/* enum chan_state */
	uint32_t id;		/* channel id on its own session */
	uint32_t session;	/* slot of its own session */
	uint64_t peer;		/* handle of the other end; HANDLE_NONE while OPENING */
	uint64_t opened_ns;
	uint32_t prev, next;	/* the session's list of ends */
};

struct channels {
	struct chan *c;
	struct slots free;
	struct rte_hash *h;	/* (session slot, channel id) → end slot */
	uint32_t sweep;		/* timer cursor */
	uint32_t ends;		/* ends in use */
	uint32_t agent_ends;	/* one per channel: stats.channels */
};

/* Room for @cap ends; @name is unique per process (rte_hash). @return 0, -ENOMEM. */
int channels_init(struct channels *t, const char *name, uint32_t cap);
void channels_fini(struct channels *t);

/* The end with channel id @id on session @s, or NULL. */
struct chan *channel_lookup(struct relay_worker *w, const struct session *s, uint32_t id);

/* The live end @h names on @w, or NULL (stale). */
struct chan *channel_get(struct relay_worker *w, uint64_t h);

uint64_t channel_handle(const struct relay_worker *w, const struct chan *c);

/* Frames from session @s (receive.c); @ctx lends the packet's mbuf for an answer. */
void channel_open_rx(struct relay_worker *w, struct session *s, struct rx_ctx *ctx,
		     const struct frame_open *o);
void channel_accept_rx(struct relay_worker *w, struct session *s, struct rx_ctx *ctx,
		       uint32_t id);
void channel_close_rx(struct relay_worker *w, struct session *s, struct rx_ctx *ctx,
		      const struct frame_close *c);

/* An unknown channel id in CHANNEL_DATA: CLOSE PROTOCOL, at most once per second (§7). */
void channel_unknown(struct relay_worker *w, struct session *s, struct rx_ctx *ctx, uint32_t id);

/* HANDOFF_OPEN, _ACCEPTED or _CLOSE addressed to this worker. Consumes @m. */
void channel_message(struct relay_worker *w, struct rte_mbuf *m, unsigned kind);

/*
 * Free every end of @s. Each peer gets CLOSE PEER_GONE; @s's own endpoint is
 * told nothing (it is gone, or restarted without state: NEW_SESSION).
 */
void channel_close_session(struct relay_worker *w, struct session *s);

/* Drain end: every end of this worker is freed with CLOSE SHUTDOWN to its own endpoint. */
void channel_shutdown_all(struct relay_worker *w);

/* Timer: OPENING / ACCEPTING ends older than 10 s get CLOSE TIMEOUT. @return ends checked. */
unsigned channel_sweep(struct relay_worker *w, unsigned budget);

#endif /* POSTERN_RELAY_CHANNEL_H */
