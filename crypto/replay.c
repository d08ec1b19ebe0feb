/*
 * replay.c — RFC 6479 sliding window over 64-bit blocks.
 *
 * States: top = highest accepted counter; bit c % 64 of map[(c / 64) % WORDS]
 * set = c received, valid for every c in [top - REPLAY_WINDOW + 1, top].
 * Triggers: an accepted counter above top clears the blocks between the old
 * top's block and the new one (at most all REPLAY_WORDS of them), then
 * becomes top; an accepted counter at or below top only sets its bit.
 *
 * The empty state needs no flag: top = 0 with a clear map reads as "only
 * counter 0 is in the window and it is unseen", and everything above 0 is new.
 */
#include "crypto/replay.h"

#include <string.h>

_Static_assert(REPLAY_WINDOW % REPLAY_WORD_BITS == 0, "window is whole blocks");
_Static_assert(REPLAY_WORDS * REPLAY_WORD_BITS >= REPLAY_WINDOW + REPLAY_WORD_BITS - 1,
	       "the window may straddle one more block than it fills");

static inline uint64_t *block_of(struct replay *r, uint64_t counter)
{
	return &r->map[(counter / REPLAY_WORD_BITS) % REPLAY_WORDS];
}

static inline uint64_t bit_of(uint64_t counter)
{
	return UINT64_C(1) << (counter % REPLAY_WORD_BITS);
}

/* Counter rules shared by check and accept, bitmap aside. */
static inline bool in_range(const struct replay *r, uint64_t counter)
{
	if (counter >= REPLAY_REJECT_AFTER_MESSAGES)
		return false;
	/* top - counter cannot wrap: counter <= top here. */
	return counter > r->top || r->top - counter < REPLAY_WINDOW;
}

void replay_init(struct replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool replay_check(const struct replay *r, uint64_t counter)
{
	if (!in_range(r, counter))
		return false;
	if (counter > r->top)
		return true;
	return !(r->map[(counter / REPLAY_WORD_BITS) % REPLAY_WORDS] & bit_of(counter));
}

/*
 * RFC 6479 §2: advancing top by k blocks clears the k blocks it enters; past
 * REPLAY_WORDS blocks every block is stale, so the loop is bounded by the map.
 */
static void window_advance(struct replay *r, uint64_t counter)
{
	uint64_t old_block = r->top / REPLAY_WORD_BITS;
	uint64_t steps = counter / REPLAY_WORD_BITS - old_block;
	uint64_t i;

	if (steps > REPLAY_WORDS)
		steps = REPLAY_WORDS;
	for (i = 1; i <= steps; i++)
		r->map[(old_block + i) % REPLAY_WORDS] = 0;
	r->top = counter;
}

bool replay_accept(struct replay *r, uint64_t counter)
{
	uint64_t *block, bit;

	if (!in_range(r, counter))
		return false;
	if (counter > r->top)
		window_advance(r, counter);
	block = block_of(r, counter);
	bit = bit_of(counter);
	if (*block & bit)
		return false;
	*block |= bit;
	return true;
}
