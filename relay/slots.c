/*
 * slots.c — FIFO of free slot numbers (see slots.h for why FIFO).
 */
#include "relay/slots.h"

#include <errno.h>
#include <stdlib.h>

int slots_init(struct slots *s, uint32_t cap)
{
	s->ring = calloc(cap ? cap : 1, sizeof(*s->ring));
	if (!s->ring)
		return -ENOMEM;
	for (uint32_t i = 0; i < cap; i++)
		s->ring[i] = i;
	s->cap = cap;
	s->head = 0;
	s->n = cap;
	return 0;
}

void slots_fini(struct slots *s)
{
	free(s->ring);
	s->ring = NULL;
	s->cap = s->n = 0;
}

bool slots_get(struct slots *s, uint32_t *slot)
{
	if (s->n == 0)
		return false;
	*slot = s->ring[s->head];
	s->head = s->head + 1 == s->cap ? 0 : s->head + 1;
	s->n--;
	return true;
}

void slots_put(struct slots *s, uint32_t slot)
{
	uint64_t tail = (uint64_t)s->head + s->n;

	s->ring[tail % s->cap] = slot;
	s->n++;
}
