/*
 * send.h — everything a worker transmits goes through here: sealing a DATA
 * packet for a session, and the per-worker TX queue toward the backend.
 *
 * A DATA packet being built or spliced sits in its mbuf as
 *	[16-byte DATA header][plaintext frames][16 bytes of room for the tag]
 * send_to_session() fills the header (the session's receiver index and the
 * keypair's next counter), seals the frames in place with the header as
 * associated data (protocol.md §2.4), addresses the mbuf to the session's
 * current peer and listener, and queues it.
 *
 * TX queue: packets wait in the worker's queue until it holds TX_QUEUE_MAX or
 * send_flush() runs (end of every burst and poll). The backend takes the first
 * k; the core frees the rest and counts them tx_full (core.h accounting).
 *
 * Threads: the owning worker.
 */
#ifndef POSTERN_RELAY_SEND_H
#define POSTERN_RELAY_SEND_H

#include <stddef.h>
#include <stdint.h>

struct rte_mbuf;
struct relay_worker;
struct session;

/*
 * A fresh mbuf from the relay's pool for a packet the core builds, counted
 * `originated`. @return NULL when the pool is empty (counted lost[no_mbuf]).
 */
struct rte_mbuf *send_alloc(struct relay_worker *w);

/* Make @m an empty DATA packet. @return where its frames go (HOP_DATA_PLAINTEXT_MAX bytes). */
uint8_t *send_begin(struct rte_mbuf *m);

/*
 * Seal the @pt_len plaintext bytes that follow @m's 16-byte header to @s and
 * queue it. @tx_outcome (TX_FORWARDED or TX_HANDLED) is the outcome of a
 * received @m; originated mbufs ignore it. If @s has no keypair to send
 * under, @m is dropped (peer_gone). Consumes @m.
 */
void send_to_session(struct relay_worker *w, struct session *s, struct rte_mbuf *m,
		     size_t pt_len, unsigned tx_outcome);

/* Queue a complete packet whose meta already names the peer. Consumes @m. */
void send_tx(struct relay_worker *w, struct rte_mbuf *m, unsigned tx_outcome);

/* Hand the queue to the backend. @return how many packets it was offered. */
unsigned send_flush(struct relay_worker *w);

/*
 * Convenience for frames the relay originates toward @s: CHANNEL_CLOSE and
 * GOAWAY in @m (or in a fresh mbuf if @m is NULL). Consumes @m.
 */
void send_close(struct relay_worker *w, struct session *s, struct rte_mbuf *m,
		uint32_t channel_id, uint16_t reason);
void send_goaway(struct relay_worker *w, struct session *s, uint16_t reason, uint32_t drain_ms);

#endif /* POSTERN_RELAY_SEND_H */
