/*
 * receive.h — a received DATA packet, from the receiver index to the frames
 * (protocol.md §4.1 and §7).
 *
 *	index → keypair (unknown_index; another worker's index: hand it over)
 *	→ replay_check (replayed) → AEAD open in place, AD = 16-byte header
 *	(bad_tag) → replay_accept → confirm a "next" keypair → roam
 *	→ frame_validate the whole plaintext (bad_frame: act on nothing)
 *	→ one CHANNEL_DATA frame and nothing else: splice.c, in place
 *	→ otherwise act on each frame in order
 *
 * A packet's outcome (stats.h): the splice's, for the fast path; otherwise
 * the first drop reason one of its frames meets, else forwarded if one of its
 * CHANNEL_DATA frames went on, else handled. A single-frame packet lends its
 * mbuf to the answer it causes (PONG, CLOSE, the OPEN toward the gateway):
 * rx_take() hands it out once its outcome is counted.
 *
 * Threads: the owning worker.
 */
#ifndef POSTERN_RELAY_RECEIVE_H
#define POSTERN_RELAY_RECEIVE_H

#include "relay/stats.h"

struct rte_mbuf;
struct relay_worker;
struct rx_ctx;

/* Process one DATA packet (classified by hop_classify). Consumes @m. */
void receive_data(struct relay_worker *w, struct rte_mbuf *m);

/*
 * An mbuf for an answer to the packet of @ctx: the packet's own (once, if it
 * had a single frame; its outcome is then counted handled unless already
 * set) or a fresh one. @return NULL when the pool is empty.
 */
struct rte_mbuf *rx_take(struct relay_worker *w, struct rx_ctx *ctx);

/* Set the packet's outcome to dropped[@reason] unless it is already set. */
void rx_drop(struct relay_worker *w, struct rx_ctx *ctx, enum relay_drop reason);

#endif /* POSTERN_RELAY_RECEIVE_H */
