/*
 * report.h — what relaybench prints: the per-second progress line, the final
 * table, the JSON document (schema "relaybench.run/1", documented field by
 * field in docs/relaybench.md), and the warnings both carry — above all
 * GENERATOR SATURATED, so that a generator at its limit is never read as a
 * relay at its limit.
 *
 * Threads: pure formatting; the caller's thread.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_REPORT_H
#define POSTERN_BENCH_RELAYBENCH_REPORT_H

#include <stdio.h>

#include "bench/relaybench/counters.h"
#include "bench/relaybench/opts.h"
#include "bench/relaybench/run.h"

#define REPORT_SCHEMA "relaybench.run/1"

enum {
	REPORT_WARNINGS_MAX = 16,
	REPORT_WARNING_LEN = 256,
};

struct report_warnings {
	unsigned n;
	char line[REPORT_WARNINGS_MAX][REPORT_WARNING_LEN];
};

/* The phase names the progress line shows. */
extern const char *const report_phase_names[];

/*
 * One progress line on @f: elapsed time, phase, handshakes and channels so
 * far, then rates over the last @dt seconds (@now - @prev), the last
 * second's packet RTT p99, messages lost so far and the fleet threads' CPU
 * (@cpu, fraction of all of them).
 */
void report_progress(FILE *f, double elapsed_s, const char *phase, const struct counters *now,
		     const struct counters *prev, double dt, double cpu,
		     const struct run_result *r);

/* Fill @w with what the reader must know about @r (saturation first). */
void report_warnings(const struct opts *o, const struct run_result *r,
		     struct report_warnings *w);

/* The human table (and the warnings) on @f. */
void report_table(FILE *f, const struct opts *o, const struct run_result *r,
		  const struct report_warnings *w);

/* One JSON object and a newline on @f. @return 0, or -ENOMEM / -EIO. */
int report_json(FILE *f, const struct opts *o, const struct run_result *r,
		const struct report_warnings *w);

#endif /* POSTERN_BENCH_RELAYBENCH_REPORT_H */
