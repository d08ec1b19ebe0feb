/*
 * ratelimit.h — per-source limit on INITs that carry a valid mac2
 * (protocol.md §5.2): a token bucket per source address, 20 per second with a
 * burst of 5 by default, checked only while the worker is under load.
 *
 * A valid mac2 proves the source can receive at its address, so the address
 * is a meaningful identity; it is not a port: every port of one host shares a
 * bucket, and so does every address of one IPv6 /64 (as in WireGuard's
 * ratelimiter), since a host can pick any of those at will.
 *
 * Buckets live in a small per-worker rte_hash (XXH3); a bucket idle for a
 * second is full again and is forgotten by ratelimit_expire(). When the table
 * is full, new sources are refused (fail closed under a flood).
 *
 * Threads: one worker; no locks, no allocation after create.
 */
#ifndef POSTERN_RELAY_RATELIMIT_H
#define POSTERN_RELAY_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct pkt_addr;
struct ratelimit;

enum {
	RATELIMIT_BURST = 5,		/* §5.2 */
	RATELIMIT_ENTRIES = 4096,	/* sources tracked per worker */
};

/* @name unique in the process; @rate INITs per second (≥ 1). @return 0, -ENOMEM, -EINVAL. */
int ratelimit_create(struct ratelimit **out, const char *name, uint32_t capacity, uint32_t rate);
void ratelimit_destroy(struct ratelimit *rl);

/*
 * Take @rate INITs per second (>= 1) from now on; a bucket holding more than
 * the new burst is cut to it at its next INIT. Same thread as the others.
 * @return 0; -EINVAL for @rate 0 (nothing changes).
 */
int ratelimit_set_rate(struct ratelimit *rl, uint32_t rate);

/* @return true if an INIT from @src may be processed now (and take a token). */
bool ratelimit_allow(struct ratelimit *rl, const struct pkt_addr *src, uint64_t now_ns);

/* Forget up to @budget buckets idle for a second, resuming where the last call stopped. */
void ratelimit_expire(struct ratelimit *rl, uint64_t now_ns, unsigned budget);

#endif /* POSTERN_RELAY_RATELIMIT_H */
