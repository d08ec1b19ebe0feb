/*
 * test_relaybench_payload.c — what a relaybench agent reads back from an
 * echo: the payload header survives a round trip at every size, any changed
 * byte is caught (bench/relaybench/payload.h); and the order window tells
 * in-order, reordered, duplicate and too-old arrivals apart
 * (bench/relaybench/seqwin.h).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "bench/relaybench/payload.h"
#include "bench/relaybench/seqwin.h"

static const struct payload_hdr sample = {
	.seq = 0x1122334455667788u,
	.sent_ns = 987654321012345u,
	.channel = 17,
	.msg = 4242,
	.chunk = 3,
	.chunks = 55,
};

Test(payload, header_round_trips_at_every_size)
{
	uint8_t buf[1413];

	for (size_t len = PAYLOAD_HEADER_LEN; len <= sizeof(buf); len++) {
		struct payload_hdr h = sample, got;

		h.seq += len;
		payload_write(buf, len, &h);
		cr_assert(payload_read(buf, len, &got), "size %zu", len);
		cr_assert_eq(got.seq, h.seq);
		cr_assert_eq(got.sent_ns, h.sent_ns);
		cr_assert_eq(got.channel, h.channel);
		cr_assert_eq(got.msg, h.msg);
		cr_assert_eq(got.chunk, h.chunk);
		cr_assert_eq(got.chunks, h.chunks);
	}
}

/* One flipped bit anywhere (header, check or filler) fails the read. */
Test(payload, any_changed_byte_is_caught)
{
	uint8_t buf[600];
	struct payload_hdr got;

	payload_write(buf, sizeof(buf), &sample);
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] ^= 0x10;
		cr_assert(!payload_read(buf, sizeof(buf), &got), "byte %zu changed, still read", i);
		buf[i] ^= 0x10;
	}
	cr_expect(payload_read(buf, sizeof(buf), &got));
}

Test(payload, wrong_length_short_buffer_and_bad_chunk_fail)
{
	uint8_t buf[300];
	struct payload_hdr h = sample, got;

	payload_write(buf, sizeof(buf), &h);
	cr_expect(!payload_read(buf, sizeof(buf) - 1, &got), "truncated echo accepted");
	cr_expect(!payload_read(buf, PAYLOAD_HEADER_LEN - 1, &got));
	h.chunk = h.chunks;
	payload_write(buf, sizeof(buf), &h);
	cr_expect(!payload_read(buf, sizeof(buf), &got), "chunk index past the count");
}

static void feed(struct seqwin *w, const uint64_t *seqs, const enum seqwin_verdict *want,
		 size_t n)
{
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(seqwin_check(w, seqs[i]), want[i], "step %zu: seq %llu", i,
			     (unsigned long long)seqs[i]);
}

Test(seqwin, in_order_gaps_reordering_and_duplicates)
{
	static const uint64_t seqs[] = { 0, 1, 2, 5, 3, 4, 4, 9, 6, 5, 10, 0 };
	static const enum seqwin_verdict want[] = {
		SEQWIN_IN_ORDER, SEQWIN_IN_ORDER, SEQWIN_IN_ORDER,
		SEQWIN_IN_ORDER,		/* 5: a gap is not reordering (yet) */
		SEQWIN_REORDERED, SEQWIN_REORDERED,	/* 3 and 4 after 5 */
		SEQWIN_DUPLICATE,		/* 4 again */
		SEQWIN_IN_ORDER,
		SEQWIN_REORDERED,		/* 6 after 9 */
		SEQWIN_DUPLICATE,		/* 5 again */
		SEQWIN_IN_ORDER,
		SEQWIN_DUPLICATE,		/* 0 again, still in the window */
	};
	struct seqwin w;

	seqwin_init(&w);
	feed(&w, seqs, want, sizeof(seqs) / sizeof(seqs[0]));
}

Test(seqwin, first_arrival_may_be_any_number)
{
	struct seqwin w;

	seqwin_init(&w);
	cr_expect_eq(seqwin_check(&w, 1000), SEQWIN_IN_ORDER);
	cr_expect_eq(seqwin_check(&w, 999), SEQWIN_REORDERED);
	cr_expect_eq(seqwin_check(&w, 1000), SEQWIN_DUPLICATE);
}

Test(seqwin, window_edges)
{
	struct seqwin w;

	seqwin_init(&w);
	cr_expect_eq(seqwin_check(&w, SEQWIN_BITS), SEQWIN_IN_ORDER);
	/* SEQWIN_BITS - 1 behind the highest: the oldest still tracked. */
	cr_expect_eq(seqwin_check(&w, 1), SEQWIN_REORDERED);
	cr_expect_eq(seqwin_check(&w, 1), SEQWIN_DUPLICATE);
	cr_expect_eq(seqwin_check(&w, 0), SEQWIN_TOO_OLD);
	cr_expect_eq(seqwin_check(&w, SEQWIN_BITS + 1), SEQWIN_IN_ORDER);
	cr_expect_eq(seqwin_check(&w, 1), SEQWIN_TOO_OLD);
	cr_expect_eq(seqwin_check(&w, 2), SEQWIN_REORDERED);
}

/* A jump forward clears what the bitmap held for the numbers it skipped. */
Test(seqwin, jumps_forget_stale_bits)
{
	struct seqwin w;

	seqwin_init(&w);
	for (uint64_t s = 0; s < 300; s++)
		cr_assert_eq(seqwin_check(&w, s), SEQWIN_IN_ORDER);
	cr_expect_eq(seqwin_check(&w, 300 + 10), SEQWIN_IN_ORDER);
	for (uint64_t s = 300; s < 310; s++)
		cr_expect_eq(seqwin_check(&w, s), SEQWIN_REORDERED, "seq %llu",
			     (unsigned long long)s);
	cr_expect_eq(seqwin_check(&w, 5000), SEQWIN_IN_ORDER);
	for (uint64_t s = 5000 - SEQWIN_BITS + 1; s < 5000; s += 37)
		cr_expect_eq(seqwin_check(&w, s), SEQWIN_REORDERED, "seq %llu after a long jump",
			     (unsigned long long)s);
}
