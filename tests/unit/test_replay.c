/*
 * test_replay.c — the anti-replay window: each counter accepted at most once,
 * exactly the last REPLAY_WINDOW counters below the top accepted, nothing at
 * or above the reject-after limit, and agreement with a naive set-based model
 * over long reordered streams.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "crypto/replay.h"

#define W ((uint64_t)REPLAY_WINDOW)
#define LIMIT REPLAY_REJECT_AFTER_MESSAGES
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct step {
	uint64_t counter;
	bool fresh;	/* expected from both replay_check and replay_accept */
};

/*
 * Apply @steps in order to @r. replay_check must predict replay_accept without
 * touching the state, and a counter just accepted must no longer pass the check.
 */
static void run_steps(struct replay *r, const struct step *steps, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		struct replay before = *r;
		bool checked = replay_check(r, steps[i].counter);

		cr_assert(memcmp(&before, r, sizeof(*r)) == 0, "%s step %zu: check mutated",
			  name, i);
		cr_assert_eq(checked, steps[i].fresh, "%s step %zu: check(%llu) = %d", name, i,
			     (unsigned long long)steps[i].counter, checked);
		cr_assert_eq(replay_accept(r, steps[i].counter), steps[i].fresh,
			     "%s step %zu: accept(%llu)", name, i,
			     (unsigned long long)steps[i].counter);
		cr_assert_not(replay_check(r, steps[i].counter),
			      "%s step %zu: %llu still fresh after accept", name, i,
			      (unsigned long long)steps[i].counter);
		if (!steps[i].fresh)
			cr_assert(memcmp(&before, r, sizeof(*r)) == 0,
				  "%s step %zu: a rejected counter changed the state", name, i);
	}
}

#define RUN(r, steps) run_steps((r), (steps), ARRAY_SIZE(steps), #steps)

Test(replay, limits_are_wireguards)
{
	cr_assert_eq(REPLAY_REJECT_AFTER_MESSAGES, UINT64_MAX - 8192);	/* 2^64 - 2^13 - 1 */
	cr_assert_eq(REPLAY_REKEY_AFTER_MESSAGES, UINT64_C(1) << 60);
	cr_assert_geq(REPLAY_WINDOW, 2048);
	cr_assert_eq(REPLAY_WORDS, REPLAY_WINDOW / 64 + 1);
}

Test(replay, in_order_duplicates_and_counter_zero)
{
	static const struct step steps[] = {
		{ 0, true }, { 0, false },		/* counter 0 is a real counter, once */
		{ 1, true }, { 1, false }, { 0, false },
		{ 2, true }, { 3, true }, { 4, true },
		{ 3, false }, { 4, false }, { 2, false },
		{ 5, true }, { 5, false },
	};
	struct replay r;

	replay_init(&r);
	RUN(&r, steps);
}

Test(replay, zero_arriving_late)
{
	static const struct step steps[] = {
		{ 7, true }, { 0, true }, { 0, false },	/* 0 was never seen before 7 */
		{ 6, true }, { 1, true }, { 7, false },
	};
	struct replay r;

	replay_init(&r);
	RUN(&r, steps);
}

Test(replay, out_of_order_inside_window)
{
	static const struct step steps[] = {
		{ 10, true }, { 7, true }, { 9, true }, { 8, true }, { 7, false },
		{ 3, true }, { 100, true }, { 11, true }, { 99, true }, { 12, true },
		{ 11, false }, { 99, false }, { 100, false }, { 64, true }, { 63, true },
		{ 65, true }, { 64, false }, { 1000, true }, { 500, true }, { 500, false },
		{ 10, false },		/* the very first counter, replayed last */
	};
	struct replay r;

	replay_init(&r);
	RUN(&r, steps);
}

Test(replay, window_edge)
{
	static const struct step steps[] = {
		{ 5000, true },
		{ 5000 - (W - 1), true },	/* oldest counter inside the window */
		{ 5000 - (W - 1), false },
		{ 5000 - W, false },		/* one below: too old, never seen or not */
		{ 5000 - W - 1, false },
		{ 0, false },
		{ 4999, true },
		{ 5001, true },			/* top moves by one ... */
		{ 5000 - (W - 1), false },	/* ... so the old edge is now outside */
		{ 5001 - (W - 1), true },
		{ 5001 - W, false },
	};
	struct replay r;

	replay_init(&r);
	RUN(&r, steps);
}

/*
 * For top at every interesting offset inside its block, all REPLAY_WINDOW
 * counters ending at top are accepted exactly once and nothing older is. This
 * is where a window one block too small, or an aliased block, would show.
 */
Test(replay, whole_window_at_every_block_offset)
{
	static const uint64_t offsets[] = { 0, 1, 2, 31, 32, 62, 63 };
	static const uint64_t bases[] = { 64 * 40, 64 * 1000 + 64 * 33 * 7 };

	for (size_t b = 0; b < ARRAY_SIZE(bases); b++) {
		for (size_t o = 0; o < ARRAY_SIZE(offsets); o++) {
			uint64_t top = bases[b] + offsets[o];
			unsigned accepted = 0;
			struct replay r;

			replay_init(&r);
			cr_assert(replay_accept(&r, top));
			accepted++;
			for (uint64_t c = top - 1; c > top - W - 70; c--)
				accepted += replay_accept(&r, c);
			cr_assert_eq(accepted, REPLAY_WINDOW, "top %llu: %u accepted",
				     (unsigned long long)top, accepted);
			for (uint64_t c = top; c > top - W - 70; c--)
				cr_assert_not(replay_accept(&r, c), "top %llu: %llu twice",
					      (unsigned long long)top, (unsigned long long)c);
		}
	}
}

Test(replay, block_boundaries)
{
	static const struct step steps[] = {
		{ 63, true }, { 64, true }, { 62, true }, { 65, true },
		{ 127, true }, { 128, true }, { 129, true }, { 64, false },
		{ 0, true }, { 128, false }, { 127, false },
		{ 64 * 33 - 1, true },		/* last bit of the 33rd block */
		{ 64 * 33, true },		/* wraps onto block slot 0 */
		{ 63, false },			/* slot 0's old bits are too old, not "seen" */
		{ 64 * 33 - W, false },
		{ 64 * 33 - W + 1, false },	/* 65: the window's edge, seen earlier */
		{ 64 * 33 - W + 2, true },	/* 66: in block slot 1, never seen */
		{ 64 * 34 - 1, true },		/* fills the rest of the wrapped block */
		{ 64 * 33 + 1, true },
		{ 64 * 33 + 1, false },
	};
	struct replay r;

	replay_init(&r);
	RUN(&r, steps);
}

/*
 * A jump further than the window empties it: counters that land on reused
 * block slots must be fresh, whatever bits those slots carried before.
 */
Test(replay, far_jumps_clear_the_old_map)
{
	static const uint64_t jumps[] = {
		1, 63, 64, 65, W - 1, W, W + 1, 64 * 32, 64 * 33, 64 * 34, 64 * 33 * 5 + 17,
		UINT64_C(1) << 40,
	};

	for (size_t j = 0; j < ARRAY_SIZE(jumps); j++) {
		uint64_t top = 3 * W + 5, ntop = top + jumps[j];
		struct replay r;

		replay_init(&r);
		/* Every counter of the current window is marked. */
		for (uint64_t c = top - W + 1; c <= top; c++)
			cr_assert(replay_accept(&r, c));
		cr_assert(replay_accept(&r, ntop), "jump %llu", (unsigned long long)jumps[j]);
		for (uint64_t c = ntop - 1; c > ntop - W; c--) {
			bool fresh = c > top;

			cr_assert_eq(replay_check(&r, c), fresh, "jump %llu: check %llu",
				     (unsigned long long)jumps[j], (unsigned long long)c);
			cr_assert_eq(replay_accept(&r, c), fresh, "jump %llu: accept %llu",
				     (unsigned long long)jumps[j], (unsigned long long)c);
		}
		cr_assert_not(replay_accept(&r, ntop - W), "jump %llu: edge",
			      (unsigned long long)jumps[j]);
	}
}

Test(replay, reject_after_messages)
{
	static const struct step steps[] = {
		{ LIMIT, false },
		{ UINT64_MAX, false },		/* the Noise-reserved nonce */
		{ UINT64_MAX - 1, false },
		{ LIMIT + 1, false },
		{ LIMIT - 1, true },		/* the last acceptable counter */
		{ LIMIT - 1, false },
		{ LIMIT, false },
		{ LIMIT - 2, true },
		{ LIMIT - W, true },
		{ LIMIT - W - 1, false },	/* outside the window below LIMIT - 1 */
		{ 0, false },
	};
	struct replay r;

	replay_init(&r);
	RUN(&r, steps);
}

/* xorshift64*: deterministic, so a failure reproduces from the printed seed. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

struct model {
	uint8_t *seen;	/* indexed by counter - base */
	uint64_t base;
	uint64_t top;
	bool any;
};

/* The specification, spelled out over a plain set of received counters. */
static bool model_fresh(const struct model *m, uint64_t c)
{
	if (c >= LIMIT || m->seen[c - m->base])
		return false;
	return !m->any || c > m->top || m->top - c < W;
}

static void model_accept(struct model *m, uint64_t c)
{
	m->seen[c - m->base] = 1;
	if (!m->any || c > m->top)
		m->top = c;
	m->any = true;
}

struct arrival {
	uint64_t key;		/* arrival time: send time + jitter */
	uint64_t counter;
};

static int arrival_cmp(const void *a, const void *b)
{
	const struct arrival *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->counter < y->counter ? -1 : x->counter > y->counter;
}

/*
 * @n counters from @base sent in order, each delayed by a random jitter below
 * @spread (so no packet arrives after one sent @spread or more later), and 1 in
 * 8 arrivals followed by a replay of one of the last 64 arrivals. Every answer
 * of the window must match the set model.
 * @return how many counters were accepted.
 */
static size_t random_stream(uint64_t base, size_t n, uint64_t spread, uint64_t seed)
{
	struct arrival *seq = malloc(n * sizeof(*seq));
	struct model m = { .seen = calloc(n, 1), .base = base };
	const uint64_t seed0 = seed;
	size_t accepted = 0;
	struct replay r;

	cr_assert(seq && m.seen);
	for (size_t i = 0; i < n; i++) {
		seq[i].key = i + rng_next(&seed) % spread;
		seq[i].counter = base + i;
	}
	qsort(seq, n, sizeof(*seq), arrival_cmp);

	replay_init(&r);
	for (size_t i = 0; i < n; i++) {
		for (int dup = 0; dup < 2; dup++) {
			uint64_t c = seq[i].counter;
			bool want;

			if (dup) {
				if (rng_next(&seed) % 8)
					break;
				c = seq[i - rng_next(&seed) % (i + 1 < 64 ? i + 1 : 64)].counter;
			}
			want = model_fresh(&m, c);
			cr_assert_eq(replay_check(&r, c), want, "seed %llu i %zu: check %llu",
				     (unsigned long long)seed0, i, (unsigned long long)c);
			cr_assert_eq(replay_accept(&r, c), want, "seed %llu i %zu: accept %llu",
				     (unsigned long long)seed0, i, (unsigned long long)c);
			if (want) {
				model_accept(&m, c);
				accepted++;
			}
		}
	}
	free(seq);
	free(m.seen);
	return accepted;
}

Test(replay, matches_set_model_under_reordering)
{
	static const struct {
		uint64_t base;
		uint64_t spread;
	} cases[] = {
		{ 0, 1 },			/* in order */
		{ 0, 64 },
		{ 0, 1024 },
		{ 0, W },			/* the largest delay the window absorbs */
		{ 0, W + 600 },			/* some packets fall out of the window */
		{ 0, 9000 },
		{ (UINT64_C(1) << 32) + 17, W },
		{ LIMIT - 95000, 1500 },	/* the last 5000 are past the limit */
	};
	const size_t n = 100000;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t below = LIMIT - cases[i].base < n ? LIMIT - cases[i].base : n;
		size_t accepted = random_stream(cases[i].base, n, cases[i].spread,
						0x9e3779b97f4a7c15ULL + i);

		/*
		 * A delay below the window never makes a packet too old: every
		 * distinct counter under the limit is accepted, no replay is.
		 * Past the window, some must be lost.
		 */
		if (cases[i].spread <= W)
			cr_assert_eq(accepted, below, "case %zu: %zu of %llu accepted", i,
				     accepted, (unsigned long long)below);
		else
			cr_assert_lt(accepted, below, "case %zu: nothing fell out", i);
	}
}
