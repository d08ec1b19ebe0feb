/*
 * seqwin.h — per-channel arrival order: is an echoed sequence number new and
 * in order, late but new (reordered), or a duplicate?
 *
 * Like a replay window (RFC 6479) without the cryptography: a bitmap of the
 * highest sequence seen and the SEQWIN_BITS - 1 below it. "In order" means
 * higher than everything seen so far, gaps allowed (a gap is loss, or
 * packets that will arrive reordered). A number further back than the
 * window cannot be told from a duplicate; it is reported as SEQWIN_TOO_OLD.
 *
 * A plain value, embedded per channel. Threads: the owner's only.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_SEQWIN_H
#define POSTERN_BENCH_RELAYBENCH_SEQWIN_H

#include <stdbool.h>
#include <stdint.h>

enum {
	SEQWIN_BITS = 256,
	SEQWIN_WORDS = SEQWIN_BITS / 64,
};

enum seqwin_verdict {
	SEQWIN_IN_ORDER,	/* higher than any before */
	SEQWIN_REORDERED,	/* lower than one before, first time seen */
	SEQWIN_DUPLICATE,	/* seen before */
	SEQWIN_TOO_OLD,		/* SEQWIN_BITS or more behind the highest */
};

struct seqwin {
	uint64_t top;			/* highest seen + 1; 0: nothing yet */
	uint64_t map[SEQWIN_WORDS];	/* bit s % SEQWIN_BITS for s in [top - BITS, top) */
};

/* An empty window. */
void seqwin_init(struct seqwin *w);

/* Classify @seq (below UINT64_MAX) and remember it. */
enum seqwin_verdict seqwin_check(struct seqwin *w, uint64_t seq);

#endif /* POSTERN_BENCH_RELAYBENCH_SEQWIN_H */
