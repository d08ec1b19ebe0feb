/*
 * model.h — relaybench's traffic models: how large each message is, how it
 * is cut into CHANNEL_DATA chunks, and when the next one starts (open loop).
 * docs/relaybench.md describes them for users; this is the code's contract.
 *
 * rr (MCP-like request/response): each message's size is drawn from
 *
 *	share  sizes (bytes)      distribution   stands for
 *	80 %   200 .. 800         uniform        JSON-RPC calls and small results
 *	15 %   1024 .. 4096       uniform        tool results of a few KB
 *	 5 %   4097 .. 65536      log-uniform    large results (files, listings)
 *
 * and sent as ceil(size / 1200) chunks of 1200 bytes, the last one holding
 * the rest (at least MODEL_CHUNK_MIN: a 1201-byte message is 1200 + 32).
 * 1200 bytes is the QUIC datagram size an E2E connection starts with.
 *
 * stream: every message is one chunk of a fixed size.
 *
 * Arrivals (open loop): fixed spacing 1/rate, or Poisson (exponential gaps
 * of mean 1/rate).
 *
 * Threads: pure functions; the caller owns the struct rng.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_MODEL_H
#define POSTERN_BENCH_RELAYBENCH_MODEL_H

#include <stdint.h>

#include "bench/relaybench/rng.h"

enum model_kind {
	MODEL_RR,
	MODEL_STREAM,
};

enum model_arrivals {
	MODEL_POISSON,
	MODEL_FIXED,
};

enum {
	MODEL_CHUNK = 1200,		/* E2E bytes per CHANNEL_DATA, all chunks but the last */
	MODEL_CHUNK_MIN = 32,		/* a chunk holds at least the payload header */
	MODEL_RR_MIN = 200,
	MODEL_RR_MAX = 65536,
	MODEL_CHUNKS_MAX = (MODEL_RR_MAX + MODEL_CHUNK - 1) / MODEL_CHUNK,	/* 55 */
	MODEL_RR_CLASSES = 3,
};

/* One row of the rr table above. */
struct model_class {
	unsigned percent;
	uint32_t lo, hi;
	int log_uniform;		/* 0 uniform, 1 log-uniform */
	const char *name;		/* "small", "medium", "large" */
};

/* The rr table, MODEL_RR_CLASSES rows; the percents add up to 100. */
extern const struct model_class model_rr_classes[MODEL_RR_CLASSES];

/* @return an rr message size in MODEL_RR_MIN..MODEL_RR_MAX. */
uint32_t model_rr_size(struct rng *r);

/* @return how many chunks a message of @size bytes (>= 1) is sent as. */
unsigned model_chunks(uint32_t size);

/*
 * @return the E2E length of chunk @k (0 .. model_chunks(size) - 1) of a
 * message of @size bytes: MODEL_CHUNK, or the rest for the last one, at
 * least MODEL_CHUNK_MIN.
 */
uint32_t model_chunk_len(uint32_t size, unsigned k);

/*
 * @return the gap to the next arrival in nanoseconds at @rate per second
 * (> 0). A double, so that fixed gaps do not drift by rounding.
 */
double model_gap_ns(struct rng *r, enum model_arrivals a, double rate);

/* @return "rr" / "stream", "poisson" / "fixed". */
const char *model_kind_name(enum model_kind k);
const char *model_arrivals_name(enum model_arrivals a);

#endif /* POSTERN_BENCH_RELAYBENCH_MODEL_H */
