/*
 * rr_wire.c — header encoding for the bench/peers workload (rr_wire.h).
 * Explicit little-endian byte order, so client and server agree whatever
 * machine each runs on.
 */
#include "bench/peers/rr_wire.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static bool len_ok(uint32_t len)
{
	return len >= RR_WIRE_LEN_MIN && len <= RR_WIRE_LEN_MAX;
}

void rr_wire_encode(uint8_t out[RR_WIRE_HDR], const struct rr_hdr *h)
{
	put32(out, h->magic);
	put32(out + 4, h->req_len);
	put32(out + 8, h->resp_len);
	put32(out + 12, h->seq);
}

bool rr_wire_decode(const uint8_t in[RR_WIRE_HDR], uint32_t magic, struct rr_hdr *h)
{
	h->magic = get32(in);
	h->req_len = get32(in + 4);
	h->resp_len = get32(in + 8);
	h->seq = get32(in + 12);
	return h->magic == magic && len_ok(h->req_len) && len_ok(h->resp_len);
}
