/*
 * slots.h — a FIFO of free slot numbers for one worker's fixed tables
 * (sessions, keypairs, channel ends).
 *
 * First in, first out: a freed slot is reused as late as possible, so a
 * packet still in flight for a dead keypair's index almost always meets an
 * empty slot (unknown_index) rather than a new keypair, and a stale handle's
 * slot has usually not been recycled either (the generation catches it anyway).
 *
 * Threads: one owner; nothing is atomic. No allocation after slots_init().
 */
#ifndef POSTERN_RELAY_SLOTS_H
#define POSTERN_RELAY_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

struct slots {
	uint32_t *ring;
	uint32_t cap;		/* slot numbers are 0..cap-1 */
	uint32_t head;		/* next to hand out */
	uint32_t n;		/* how many are free */
};

/* All @cap slots free, in order 0..cap-1. @return 0 or -ENOMEM. */
int slots_init(struct slots *s, uint32_t cap);
void slots_fini(struct slots *s);

/* @return true and *@slot set, or false when none is free. */
bool slots_get(struct slots *s, uint32_t *slot);

/* Return @slot (which slots_get() handed out and nobody uses now). */
void slots_put(struct slots *s, uint32_t slot);

#endif /* POSTERN_RELAY_SLOTS_H */
