/*
 * seqwin.c — arrival order per channel (seqwin.h).
 */
#include "bench/relaybench/seqwin.h"

#include <string.h>

static bool test_and_set(struct seqwin *w, uint64_t seq)
{
	uint64_t bit = UINT64_C(1) << (seq % 64);
	uint64_t *word = &w->map[(seq / 64) % SEQWIN_WORDS];
	bool was = *word & bit;

	*word |= bit;
	return was;
}

void seqwin_init(struct seqwin *w)
{
	memset(w, 0, sizeof(*w));
}

enum seqwin_verdict seqwin_check(struct seqwin *w, uint64_t seq)
{
	uint64_t top = w->top;	/* highest seen is top - 1 */

	if (seq >= top) {
		/* Clear the bits of the numbers skipped over: they are new ground. */
		if (seq + 1 - top >= SEQWIN_BITS) {
			memset(w->map, 0, sizeof(w->map));
		} else {
			for (uint64_t s = top; s < seq; s++)
				w->map[(s / 64) % SEQWIN_WORDS] &= ~(UINT64_C(1) << (s % 64));
		}
		w->map[(seq / 64) % SEQWIN_WORDS] &= ~(UINT64_C(1) << (seq % 64));
		test_and_set(w, seq);
		w->top = seq + 1;
		return SEQWIN_IN_ORDER;
	}
	if (top - seq > SEQWIN_BITS)
		return SEQWIN_TOO_OLD;
	return test_and_set(w, seq) ? SEQWIN_DUPLICATE : SEQWIN_REORDERED;
}
