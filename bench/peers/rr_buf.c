/*
 * rr_buf.c — a connection's outgoing bytes (rr_buf.h).
 *
 * The filler is a fixed pseudo-random pattern, not zeros: nothing on a path
 * (SSH compression, should it be on; a TLS stack) may send the workload
 * cheaper than its size.
 */
#include "bench/peers/rr_buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { FILL = 4096 };

static const uint8_t *filler(void)
{
	static uint8_t pattern[FILL];
	static int ready;
	uint32_t x = 0x9e3779b9u;

	if (!ready) {
		/* xorshift32: cheap, deterministic, incompressible enough. */
		for (size_t i = 0; i < FILL; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			pattern[i] = (uint8_t)x;
		}
		ready = 1;
	}
	return pattern;
}

void rr_buf_init(struct rr_buf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
}

void rr_buf_release(struct rr_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->head = b->tail = b->cap = 0;
}

/*
 * Room for @n more bytes at the tail. Sliding the pending bytes down costs
 * their length, so it is done only when at least as many bytes were consumed
 * before them (or when the limit leaves no other way): each byte is then moved
 * O(1) times on average, however long a pipeline of large messages waits.
 */
static int make_room(struct rr_buf *b, size_t n)
{
	size_t pending = b->tail - b->head, want;
	uint8_t *p;

	if (pending + n > b->limit)
		return -ENOBUFS;
	if (b->tail + n <= b->cap)
		return 0;
	if (b->head && (b->head >= pending || b->tail + n > b->limit)) {
		memmove(b->data, b->data + b->head, pending);
		b->head = 0;
		b->tail = pending;
		if (b->tail + n <= b->cap)
			return 0;
	}
	want = b->cap ? b->cap : 4096;
	while (want < b->tail + n)
		want *= 2;
	if (want > b->limit)
		want = b->limit;
	p = realloc(b->data, want);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = want;
	return 0;
}

int rr_buf_append_msg(struct rr_buf *b, const struct rr_hdr *h, uint32_t len)
{
	const uint8_t *fill = filler();
	size_t off;
	int rc;

	if (len < RR_WIRE_HDR)
		return -EINVAL;
	rc = make_room(b, len);
	if (rc)
		return rc;
	rr_wire_encode(b->data + b->tail, h);
	for (off = RR_WIRE_HDR; off < len;) {
		size_t n = len - off < FILL ? len - off : FILL;

		memcpy(b->data + b->tail + off, fill, n);
		off += n;
	}
	b->tail += len;
	return 0;
}

size_t rr_buf_pending(const struct rr_buf *b)
{
	return b->tail - b->head;
}

const uint8_t *rr_buf_head(const struct rr_buf *b)
{
	return b->data + b->head;
}

void rr_buf_consume(struct rr_buf *b, size_t n)
{
	b->head += n;
	if (b->head == b->tail)
		b->head = b->tail = 0;
}
