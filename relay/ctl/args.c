/*
 * args.c — option values of posternctl: times, durations, hex ids.
 *
 * Times are protocol values (docs/protocol.md §6.1: unsigned 64-bit Unix
 * seconds), so the parsers produce uint64_t and never go through a signed or
 * locale-dependent conversion: strtoull() would accept leading spaces, a sign
 * and "0x", none of which belongs in a token's expiry.
 */
#include "relay/ctl/args.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* 9999-12-31T23:59:59Z: the last second the ISO form can spell. */
static const uint64_t last_iso_second = 253402300799ULL;

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal digits s[0..n) into *out; false on overflow. */
static bool digits_to_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static int field(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* YYYY-MM-DDTHH:MM:SSZ, 20 characters; every other character a digit. */
static int parse_iso(const char *s, uint64_t *out)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	struct tm tm = { 0 }, want, back;
	time_t t;

	if (strlen(s) != sizeof(shape) - 1)
		return -EINVAL;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
			return -EINVAL;
	tm.tm_year = field(s, 4) - 1900;
	tm.tm_mon = field(s + 5, 2) - 1;
	tm.tm_mday = field(s + 8, 2);
	tm.tm_hour = field(s + 11, 2);
	tm.tm_min = field(s + 14, 2);
	tm.tm_sec = field(s + 17, 2);
	want = tm;	/* timegm() normalises its argument in place */
	t = timegm(&tm);
	if (t < 0 || !gmtime_r(&t, &back))
		return -EINVAL;
	/* 02-30 comes back as 03-02: a date that moved did not exist. */
	if (back.tm_year != want.tm_year || back.tm_mon != want.tm_mon ||
	    back.tm_mday != want.tm_mday || back.tm_hour != want.tm_hour ||
	    back.tm_min != want.tm_min || back.tm_sec != want.tm_sec)
		return -EINVAL;
	*out = (uint64_t)t;
	return 0;
}

int args_parse_u64(const char *s, uint64_t *out)
{
	size_t n = strlen(s);

	if (!n || strspn(s, "0123456789") != n || !digits_to_u64(s, n, out))
		return -EINVAL;
	return 0;
}

int args_parse_time(const char *s, uint64_t *out)
{
	if (*s && strspn(s, "0123456789") == strlen(s))
		return args_parse_u64(s, out);
	return parse_iso(s, out);
}

int args_parse_duration(const char *s, uint64_t *out)
{
	uint64_t total = 0;

	if (!*s)
		return -EINVAL;
	while (*s) {
		size_t n = strspn(s, "0123456789");
		uint64_t v, unit;

		if (!n || !digits_to_u64(s, n, &v))
			return -EINVAL;
		switch (s[n]) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		default: return -EINVAL;
		}
		if (v > UINT64_MAX / unit || total > UINT64_MAX - v * unit)
			return -EINVAL;
		total += v * unit;
		s += n + 1;
	}
	if (!total)
		return -EINVAL;
	*out = total;
	return 0;
}

void args_format_time(uint64_t t, char out[ARGS_TIME_TEXT_MAX])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t > last_iso_second || !gmtime_r(&tt, &tm) ||
	    !strftime(out, ARGS_TIME_TEXT_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, ARGS_TIME_TEXT_MAX, "after 9999");
}

void args_format_span(uint64_t a, uint64_t b, char *out, size_t cap)
{
	static const struct {
		uint64_t secs;
		char unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	uint64_t d = a > b ? a - b : b - a;
	size_t i;

	for (i = 0; i < 3 && d < units[i].secs; i++)
		;
	if (i == 3 || d % units[i].secs < units[i + 1].secs)
		snprintf(out, cap, "%llu%c", (unsigned long long)(d / units[i].secs),
			 units[i].unit);
	else
		snprintf(out, cap, "%llu%c %llu%c", (unsigned long long)(d / units[i].secs),
			 units[i].unit,
			 (unsigned long long)(d % units[i].secs / units[i + 1].secs),
			 units[i + 1].unit);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int args_parse_hex(const char *s, uint8_t *out, size_t len)
{
	uint8_t tmp[64];

	if (len > sizeof(tmp) || strlen(s) != 2 * len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		tmp[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(out, tmp, len);
	return 0;
}

void args_format_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}
