/*
 * fail.h — the error convention of relaybench's setup code: a function that
 * fails writes one line (no newline) into the caller's @err buffer, for main
 * to print as is, and returns -errno.
 *
 * Threads: no state; any thread.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_FAIL_H
#define POSTERN_BENCH_RELAYBENCH_FAIL_H

#include <stddef.h>

/*
 * Format @fmt into @err (@errlen bytes, truncated and NUL-terminated; @err may
 * be NULL when @errlen is 0).
 * @return @ret, so that a caller can `return fail_set(err, errlen, -EINVAL, ...)`.
 */
int fail_set(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* POSTERN_BENCH_RELAYBENCH_FAIL_H */
