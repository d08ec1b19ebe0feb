/*
 * rr_buf.h — the bytes one connection of bench/peers' workload still has to
 * send: whole messages (rr_wire.h header plus filler) appended at the tail,
 * written from the head as the socket takes them.
 *
 * A linear buffer that grows on demand up to a limit fixed at creation, so a
 * peer that stops reading cannot make the other side allocate without bound.
 *
 * Ownership: the caller owns the struct; rr_buf_release() frees what it
 * holds. Threads: a buffer belongs to one thread.
 */
#ifndef POSTERN_BENCH_PEERS_RR_BUF_H
#define POSTERN_BENCH_PEERS_RR_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "bench/peers/rr_wire.h"

struct rr_buf {
	uint8_t *data;
	size_t head, tail, cap, limit;
};

/* An empty buffer that will never hold more than @limit bytes. */
void rr_buf_init(struct rr_buf *b, size_t limit);

/* Free what @b holds; it is empty (and usable) afterwards. */
void rr_buf_release(struct rr_buf *b);

/*
 * Append one message of @len bytes (>= RR_WIRE_HDR): @h encoded, then
 * filler.
 * @return 0, -ENOBUFS if it would take @b past its limit, -ENOMEM.
 */
int rr_buf_append_msg(struct rr_buf *b, const struct rr_hdr *h, uint32_t len);

/* @return how many bytes wait to be sent, from rr_buf_head(). */
size_t rr_buf_pending(const struct rr_buf *b);

/* @return the first byte that waits to be sent (valid while nothing is appended). */
const uint8_t *rr_buf_head(const struct rr_buf *b);

/* Forget the first @n (<= rr_buf_pending()) bytes: they were sent. */
void rr_buf_consume(struct rr_buf *b, size_t n);

#endif /* POSTERN_BENCH_PEERS_RR_BUF_H */
