/*
 * splice.h — CHANNEL_DATA from one session to the other end of its channel
 * (DESIGN.md §2 "Splice", protocol.md §7).
 *
 * Fast path, a packet that is exactly one CHANNEL_DATA frame: it was opened in
 * place; the channel id is translated, the packet is re-sealed in place under
 * the peer session's key with its next counter, its header rewritten and its
 * meta pointed at the peer's address — same mbuf, no copy, no allocation. If
 * the peer end belongs to another worker, the mbuf (still plaintext) goes to
 * that worker's inbox as HANDOFF_SPLICE with the end's handle; only the owner
 * touches its session's keys and counter.
 *
 * Slow path, a CHANNEL_DATA frame among others: the frame is copied into a
 * fresh mbuf and takes the same route.
 *
 * The E2E bytes are never read. Outcomes: forwarded; unknown_channel (no such
 * channel, or not open yet); stale_handle (the peer end went away while the
 * packet was in a ring); peer_gone (the peer session has no key to send under).
 *
 * Threads: the owning worker of the session (splice_packet, splice_frame) or
 * of the target end (splice_deliver).
 */
#ifndef POSTERN_RELAY_SPLICE_H
#define POSTERN_RELAY_SPLICE_H

#include <stdint.h>

struct frame;
struct frame_data;
struct rte_mbuf;
struct relay_worker;
struct rx_ctx;
struct session;

/* @m holds one CHANNEL_DATA frame @f from @s, decrypted in place. Consumes @m. */
void splice_packet(struct relay_worker *w, struct session *s, struct rte_mbuf *m,
		   const struct frame *f);

/* One CHANNEL_DATA frame @d of a multi-frame packet from @s: forward a copy. */
void splice_frame(struct relay_worker *w, struct session *s, struct rx_ctx *ctx,
		  const struct frame_data *d);

/*
 * Seal @m ([header][one CHANNEL_DATA frame][tag room], plaintext) to the
 * session of channel end @end, owned by @w, under the end's channel id. Consumes @m.
 */
void splice_deliver(struct relay_worker *w, struct rte_mbuf *m, uint64_t end);

#endif /* POSTERN_RELAY_SPLICE_H */
