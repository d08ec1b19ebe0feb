/*
 * args.h — parsing and printing the values posternctl's options take: times,
 * durations, token ids and names.
 *
 * Every parser is strict (the whole string must match) and returns 0 or
 * -EINVAL; on -EINVAL the output is untouched. The caller prints the message,
 * which should show the accepted forms (ARGS_TIME_FORMS, ARGS_DURATION_FORMS).
 * Threads: no state; any thread.
 */
#ifndef POSTERN_RELAY_CTL_ARGS_H
#define POSTERN_RELAY_CTL_ARGS_H

#include <stddef.h>
#include <stdint.h>

#define ARGS_TIME_FORMS "unix seconds or ISO-8601 UTC like 2026-12-01T00:00:00Z"
#define ARGS_DURATION_FORMS "a number with a unit s, m, h, d or w, e.g. 30d, 12h, 90m, 1d12h"

enum {
	ARGS_TIME_TEXT_MAX = 32,	/* args_format_time() output, with NUL */
};

/* TIME: decimal Unix seconds, or exactly YYYY-MM-DDTHH:MM:SSZ (UTC, 1970 and later). */
int args_parse_time(const char *s, uint64_t *out);

/* DURATION: one or more <digits><unit> groups, unit s/m/h/d/w; the total must be > 0. */
int args_parse_duration(const char *s, uint64_t *out);

/* Write @t as YYYY-MM-DDTHH:MM:SSZ, or "after 9999" when it is later than that. */
void args_format_time(uint64_t t, char out[ARGS_TIME_TEXT_MAX]);

/*
 * Write a short, human relative form of |@a - @b| such as "29d 23h", "5m 3s"
 * or "0s" (two largest units).
 */
void args_format_span(uint64_t a, uint64_t b, char *out, size_t cap);

/* Decimal digits only (no sign, space or prefix), within uint64_t. */
int args_parse_u64(const char *s, uint64_t *out);

/* Exactly 2 * @len hex digits (either case) into @len bytes. */
int args_parse_hex(const char *s, uint8_t *out, size_t len);

/* Lower-case hex of @len bytes followed by a NUL (@out holds 2 * @len + 1). */
void args_format_hex(const uint8_t *in, size_t len, char *out);

#endif /* POSTERN_RELAY_CTL_ARGS_H */
