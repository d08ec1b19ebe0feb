/*
 * rr_wire.h — the framing of bench/peers' request/response workload over one
 * TCP (or TLS) byte stream: what rr_load sends and rr_server answers.
 *
 * Every request and every response starts with a 16-byte header, all fields
 * little-endian:
 *
 *	offset  size  field
 *	0       4     magic: RR_WIRE_REQ ("PRQ1") or RR_WIRE_RESP ("PRS1")
 *	4       4     req_len   the request's whole length, header included
 *	8       4     resp_len  the response's whole length, header included
 *	12      4     seq       the request's number on its connection
 *
 * followed by filler up to its own length (req_len for a request, resp_len for
 * a response). The server answers each request, in order, with a response
 * that repeats req_len, resp_len and seq under RR_WIRE_RESP, so a client can
 * tell a late, lost or mixed-up answer from the right one, and a plain echo
 * server (which would return "PRQ1") is recognised as the wrong peer.
 *
 * Threads: pure functions.
 */
#ifndef POSTERN_BENCH_PEERS_RR_WIRE_H
#define POSTERN_BENCH_PEERS_RR_WIRE_H

#include <stdbool.h>
#include <stdint.h>

enum {
	RR_WIRE_HDR = 16,
	RR_WIRE_LEN_MIN = RR_WIRE_HDR,
	RR_WIRE_LEN_MAX = 1 << 20,	/* 1 MiB: larger than any MCP message we model */
};

#define RR_WIRE_REQ UINT32_C(0x31515250)	/* "PRQ1" in memory order */
#define RR_WIRE_RESP UINT32_C(0x31535250)	/* "PRS1" */

struct rr_hdr {
	uint32_t magic, req_len, resp_len, seq;
};

/* Write @h to @out, little-endian. */
void rr_wire_encode(uint8_t out[RR_WIRE_HDR], const struct rr_hdr *h);

/*
 * Read a header from @in into @h.
 * @return true if its magic is @magic and both lengths are within
 * RR_WIRE_LEN_MIN..RR_WIRE_LEN_MAX; false otherwise (@h is filled either way,
 * for the message).
 */
bool rr_wire_decode(const uint8_t in[RR_WIRE_HDR], uint32_t magic, struct rr_hdr *h);

#endif /* POSTERN_BENCH_PEERS_RR_WIRE_H */
