/*
 * handoff.h — packets and messages from one worker to another.
 *
 * Every worker has one inbox, an rte_ring (multi-producer, single-consumer)
 * of mbuf pointers. Everything that crosses workers is an mbuf, so one ring
 * carries both packets and messages, a full ring is the only failure, and
 * nothing is allocated for a message. The mbuf's pkt_meta says what it is:
 *
 *	handoff bits 0..7   kind (below)
 *	handoff bit 8       ACCT_ORIGINATED (core.h): not a received packet
 *	handoff bits 16..31 CLOSE reason (HANDOFF_CLOSE)
 *	aux                 the target: a session or channel-end handle (handle.h)
 *
 *	kind              what the mbuf holds           what the owner does
 *	HANDOFF_DATA      a received DATA packet whose  receive it as its own
 *	                  receiver index names the owner
 *	HANDOFF_INIT      a received INIT from a static run the handshake again
 *	                  key whose session it owns      (never handed on again)
 *	HANDOFF_SPLICE    a DATA packet with one        seal it to end aux's session
 *	                  CHANNEL_DATA frame, plaintext  (stale end: stale_handle)
 *	HANDOFF_OPEN      [8-byte agent end handle]     open a gateway end on session
 *	                  [DATA packet: OPEN frame]      aux, send the OPEN (channel.h)
 *	HANDOFF_ACCEPTED  [8-byte gateway end handle]   open agent end aux, send ACCEPT
 *	HANDOFF_CLOSE     nothing                       free end aux, send CLOSE(reason)
 *
 * Received packets keep their outcome pending across the handoff: the sender
 * counts rx and handoff_out, the owner counts handoff_in and the outcome, so
 * the stats invariant holds whenever the rings are empty.
 *
 * Senders stage mbufs per destination during a burst and enqueue them in one
 * burst per destination at the end (handoff_flush), then call the target's
 * wake function. A message to the sender itself is dispatched at once.
 * Order is kept per (sender, receiver) pair, so an ACCEPTED overtakes no
 * CHANNEL_DATA that followed it.
 *
 * Threads: handoff_send/flush on the sending worker, handoff_poll on the
 * receiving worker.
 */
#ifndef POSTERN_RELAY_HANDOFF_H
#define POSTERN_RELAY_HANDOFF_H

#include <stdint.h>

struct rte_mbuf;
struct relay_worker;

enum handoff_kind {
	HANDOFF_DATA = 1,
	HANDOFF_INIT,
	HANDOFF_SPLICE,
	HANDOFF_OPEN,
	HANDOFF_ACCEPTED,
	HANDOFF_CLOSE,
};

enum { HANDOFF_MSG_LEN = 8 };	/* the handle that leads an OPEN or ACCEPTED */

/* Send @m to worker @dst (maybe this one) as @kind for @target. Consumes @m. */
void handoff_send(struct relay_worker *w, unsigned dst, struct rte_mbuf *m,
		  enum handoff_kind kind, uint64_t target, uint16_t reason);

/*
 * Start a message in @m (any mbuf the sender owns): its data becomes the
 * 8-byte handle @from. @return where a DATA packet may follow (OPEN).
 */
uint8_t *handoff_msg_begin(struct rte_mbuf *m, uint64_t from);

/* The handle at the start of a message. */
uint64_t handoff_msg_from(struct rte_mbuf *m);

/* Enqueue everything staged; a full ring drops the rest (ring_full). @return how many. */
unsigned handoff_flush(struct relay_worker *w);

/* Take up to POLL_BURST mbufs from this worker's inbox and act on them. @return how many. */
unsigned handoff_poll(struct relay_worker *w);

/*
 * Drop whatever is still staged by or queued for @w, each counted under
 * shutting_down by @w, so that every received packet still has an outcome
 * (relay_discard_pending(), relay_destroy()). Only once no worker runs.
 */
void handoff_discard(struct relay_worker *w);

#endif /* POSTERN_RELAY_HANDOFF_H */
