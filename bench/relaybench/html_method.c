/*
 * html_method.c — the "method" record of relaybench's documents (html_method.h).
 */
#include "bench/relaybench/html_method.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#ifndef POSTERN_VERSION
#define POSTERN_VERSION "unknown"
#endif

enum { COMMAND_MAX = 4096 };

/* Bytes of a well-formed UTF-8 sequence at @s, or 0 (RFC 3629 §4). */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong three- and four-byte forms, surrogates, above U+10FFFF. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

/* Append @c to @out (of @cap, NUL kept), if it fits. */
static void put(char *out, size_t cap, size_t *len, const char *c, size_t n)
{
	if (*len + n + 1 > cap)
		return;
	memcpy(out + *len, c, n);
	*len += n;
	out[*len] = '\0';
}

static bool plain(const char *a)
{
	if (!*a)
		return false;
	for (; *a; a++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
			    "_./:@%+=,-[]", *a))
			return false;
	return true;
}

/* One argument, single-quoted for a POSIX shell unless it needs no quotes. */
static void quote(char *out, size_t cap, size_t *len, const char *a)
{
	const unsigned char *s = (const unsigned char *)a;
	bool q = !plain(a);

	if (q)
		put(out, cap, len, "'", 1);
	while (*s) {
		size_t n = utf8_len(s);

		if (!n) {
			put(out, cap, len, "?", 1);
			s++;
		} else if (*s == '\'') {
			put(out, cap, len, "'\\''", 4);
			s++;
		} else {
			put(out, cap, len, (const char *)s, n);
			s += n;
		}
	}
	if (q)
		put(out, cap, len, "'", 1);
}

void html_method_date(char *buf, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, cap, "unknown");
}

json_t *html_method_json(int argc, char *const *argv)
{
	char *cmd = malloc(COMMAND_MAX), date[32], kernel[160];
	size_t len = 0;
	struct utsname u;
	json_t *j;

	if (!cmd)
		return NULL;
	cmd[0] = '\0';
	put(cmd, COMMAND_MAX, &len, "relaybench", 10);
	for (int i = 0; i < argc; i++) {
		put(cmd, COMMAND_MAX, &len, " ", 1);
		quote(cmd, COMMAND_MAX, &len, argv[i]);
	}
	html_method_date(date, sizeof(date));
	if (uname(&u))
		snprintf(kernel, sizeof(kernel), "unknown");
	else
		snprintf(kernel, sizeof(kernel), "%.64s %.64s", u.sysname, u.release);
	j = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:I}", "command", cmd, "date", date,
		      "versions", "relaybench", POSTERN_VERSION,
		      "openssl", OpenSSL_version(OPENSSL_VERSION), "jansson", JANSSON_VERSION,
		      "kernel", kernel, "cpus", (json_int_t)sysconf(_SC_NPROCESSORS_ONLN));
	free(cmd);
	return j;
}
