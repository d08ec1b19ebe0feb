/*
 * handle.h — how one worker names another worker's objects.
 *
 * Workers never follow pointers into each other's tables. A reference that
 * crosses workers (a channel's other end, a gateway session in the tunnel
 * directory, the owner of a static key) is a 64-bit handle:
 *
 *	bits 63..32  generation of the slot when the handle was made
 *	bits 31..24  owning worker, 0..RELAY_MAX_WORKERS-1
 *	bits 23..0   slot in that worker's table
 *
 * The owner bumps a slot's generation whenever it frees the slot, and never
 * uses generation 0, so a handle to a freed (or freed and reused) slot is
 * recognised as stale by the owner, never followed, and 0 means "none".
 *
 * A DATA packet's receiver index (protocol.md §3.5: opaque to endpoints) is the
 * low 32 bits of the same layout: the owning worker in the high 8 bits, the
 * keypair's slot in the low 24, so any worker knows where to hand a packet.
 *
 * Threads: plain values; any thread.
 */
#ifndef POSTERN_RELAY_HANDLE_H
#define POSTERN_RELAY_HANDLE_H

#include <stdint.h>

enum {
	HANDLE_SLOT_BITS = 24,
	HANDLE_SLOT_MAX = (1u << HANDLE_SLOT_BITS) - 1,	/* tables hold at most this many slots */
};

#define HANDLE_NONE UINT64_C(0)

static inline uint64_t handle_make(unsigned worker, uint32_t slot, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint64_t)(worker & 0xff) << HANDLE_SLOT_BITS |
	       (slot & HANDLE_SLOT_MAX);
}

static inline unsigned handle_worker(uint64_t handle)
{
	return (unsigned)(handle >> HANDLE_SLOT_BITS) & 0xff;
}

static inline uint32_t handle_slot(uint64_t handle)
{
	return (uint32_t)handle & HANDLE_SLOT_MAX;
}

static inline uint32_t handle_gen(uint64_t handle)
{
	return (uint32_t)(handle >> 32);
}

/* The next generation of a slot being freed: never 0. */
static inline uint32_t handle_next_gen(uint32_t gen)
{
	return gen == UINT32_MAX ? 1 : gen + 1;
}

/* Receiver index of keypair @slot on @worker (§2.4 bytes 4..7). */
static inline uint32_t handle_index(unsigned worker, uint32_t slot)
{
	return (uint32_t)(worker & 0xff) << HANDLE_SLOT_BITS | (slot & HANDLE_SLOT_MAX);
}

#endif /* POSTERN_RELAY_HANDLE_H */
