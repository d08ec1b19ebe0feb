/*
 * test_audit.c — the audit log as its reader meets it: one valid JSON object
 * per line whatever the strings hold, every field present, lines appended to
 * a file (and to a new one after logrotate).
 */
#define _GNU_SOURCE	/* mkdtemp */

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "endpoint/audit.h"

static const struct audit_record sample = {
	.ts_ms = 1746100800123ull,	/* 2025-05-01T12:00:00.123Z */
	.route = "db",
	.agent = "3f9a0000000000000000000000000000000000000000000000000000000000aa",
	.principal = "acme/00112233445566778899aabbccddeeff",
	.relay = "198.51.100.7:51820",
	.upstream = "10.1.2.3:5432",
	.bytes_up = 1234,
	.bytes_down = 56789,
	.duration_ms = 5021,
	.reason = AUDIT_FIN,
	.detail = NULL,
};

/* Parse one line as JSON; it must be a single object ending in exactly one newline. */
static json_t *parse_line(const char *line, int len)
{
	json_error_t jerr;
	json_t *j;

	cr_assert_gt(len, 1);
	cr_assert_eq((size_t)len, strlen(line));
	cr_assert_eq(line[len - 1], '\n', "a line ends in a newline");
	cr_assert_null(memchr(line, '\n', (size_t)len - 1), "one line: %s", line);
	j = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	cr_assert_not_null(j, "not JSON (%s): %s", jerr.text, line);
	cr_assert(json_is_object(j));
	return j;
}

Test(audit, a_record_is_one_json_object_with_every_field)
{
	static const char *const keys[] = {
		"ts", "route", "agent", "principal", "relay", "upstream", "bytes_up", "bytes_down",
		"duration_ms", "reason", "detail",
	};
	char buf[AUDIT_LINE_MAX];
	int len = audit_format(&sample, buf, sizeof(buf));
	json_t *j = parse_line(buf, len);

	cr_expect_eq(json_object_size(j), sizeof(keys) / sizeof(keys[0]));
	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_expect_not_null(json_object_get(j, keys[i]), "%s", keys[i]);
	cr_expect_str_eq(json_string_value(json_object_get(j, "ts")), "2025-05-01T12:00:00.123Z");
	cr_expect_str_eq(json_string_value(json_object_get(j, "route")), "db");
	cr_expect_str_eq(json_string_value(json_object_get(j, "agent")), sample.agent);
	cr_expect_str_eq(json_string_value(json_object_get(j, "relay")), "198.51.100.7:51820");
	cr_expect_str_eq(json_string_value(json_object_get(j, "reason")), "fin");
	cr_expect_eq(json_integer_value(json_object_get(j, "bytes_up")), 1234);
	cr_expect_eq(json_integer_value(json_object_get(j, "duration_ms")), 5021);
	cr_expect(json_is_null(json_object_get(j, "detail")));
	cr_expect_eq(json_integer_value(json_object_get(j, "bytes_down")), 56789);
	json_decref(j);
}

Test(audit, the_exact_line)
{
	struct audit_record r = sample;
	char buf[AUDIT_LINE_MAX], want[AUDIT_LINE_MAX];

	r.bytes_down = UINT64_MAX;	/* counters are unsigned 64-bit, written in full */
	r.reason = AUDIT_NOT_ALLOWED;
	r.upstream = NULL;
	r.detail = "169.254.169.254 is not in allowed_ips";
	snprintf(want, sizeof(want),
		 "{\"ts\":\"2025-05-01T12:00:00.123Z\",\"route\":\"db\",\"agent\":\"%s\","
		 "\"principal\":\"acme/00112233445566778899aabbccddeeff\","
		 "\"relay\":\"198.51.100.7:51820\",\"upstream\":null,\"bytes_up\":1234,"
		 "\"bytes_down\":18446744073709551615,\"duration_ms\":5021,"
		 "\"reason\":\"not_allowed\",\"detail\":\"169.254.169.254 is not in "
		 "allowed_ips\"}\n", sample.agent);
	cr_expect_eq(audit_format(&r, buf, sizeof(buf)), (int)strlen(want));
	cr_expect_str_eq(buf, want);
}

Test(audit, strings_are_escaped)
{
	static const struct {
		const char *in;
		const char *json;	/* as written between the quotes */
		const char *decoded;	/* what a JSON reader gets */
	} cases[] = {
		{ "plain", "plain", "plain" },
		{ "a\"b", "a\\\"b", "a\"b" },
		{ "back\\slash", "back\\\\slash", "back\\slash" },
		{ "line\nbreak\r\t", "line\\nbreak\\r\\t", "line\nbreak\r\t" },
		{ "bell\x07 esc\x1b", "bell\\u0007 esc\\u001b", "bell\x07 esc\x1b" },
		{ "\x7f", "\x7f", "\x7f" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91",
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91",
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91" },
		/* Not UTF-8: lone continuation, overlong, surrogate, truncated, too high. */
		{ "a\x80z", "a\\ufffdz", "a\xef\xbf\xbdz" },
		{ "\xc0\xaf", "\\ufffd\\ufffd", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xe2\x82", "\\ufffd\\ufffd", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd",
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct audit_record r = sample;
		char buf[AUDIT_LINE_MAX], want[256];
		int len;
		json_t *j;

		r.route = cases[i].in;
		len = audit_format(&r, buf, sizeof(buf));
		snprintf(want, sizeof(want), "\"route\":\"%s\",", cases[i].json);
		cr_expect(strstr(buf, want), "case %u: want %s in %s", i, want, buf);
		j = parse_line(buf, len);
		cr_expect_str_eq(json_string_value(json_object_get(j, "route")), cases[i].decoded,
				 "case %u", i);
		json_decref(j);
	}
}

Test(audit, long_strings_are_cut_and_the_line_stays_valid)
{
	static char big[8192];
	struct audit_record r = sample;
	char buf[AUDIT_LINE_MAX];
	const char *detail;
	int len;
	json_t *j;

	/* Every string at its worst: control characters expand six-fold. */
	memset(big, 0x01, sizeof(big) - 1);
	r.route = r.agent = r.principal = r.relay = r.upstream = r.detail = big;
	len = audit_format(&r, buf, sizeof(buf));
	cr_assert_lt(len, AUDIT_LINE_MAX);
	j = parse_line(buf, len);
	cr_expect_str_eq(json_string_value(json_object_get(j, "reason")), "fin");
	detail = json_string_value(json_object_get(j, "detail"));
	cr_assert_not_null(detail);
	cr_expect(strlen(detail) > 50 && !strcmp(detail + strlen(detail) - 3, "..."));
	json_decref(j);

	/* A cut never splits a UTF-8 character. */
	for (size_t i = 0; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[sizeof(big) - 1] = '\0';
	r = sample;
	r.detail = big;
	j = parse_line(buf, audit_format(&r, buf, sizeof(buf)));
	detail = json_string_value(json_object_get(j, "detail"));
	cr_assert_not_null(detail);
	cr_expect_null(strstr(detail, "\xef\xbf\xbd"), "no replacement character from a cut");
	json_decref(j);
}

Test(audit, small_buffers_are_refused)
{
	char buf[100];

	cr_expect_eq(audit_format(&sample, buf, sizeof(buf)), -ENOSPC);
}

Test(audit, every_reason_has_a_name)
{
	static const char *const want[] = {
		"fin",		 "reset",      "upstream_reset",  "upstream_refused", "not_allowed",
		"unknown_route", "bad_header", "connection_lost", "shutdown",
	};

	cr_assert_eq(sizeof(want) / sizeof(want[0]), (size_t)AUDIT_REASON_COUNT);
	for (unsigned i = 0; i < AUDIT_REASON_COUNT; i++)
		cr_expect_str_eq(audit_reason_name((enum audit_reason)i), want[i]);
	cr_expect_str_eq(audit_reason_name(AUDIT_REASON_COUNT), "unknown");
}

Test(audit, zero_ts_means_now)
{
	struct audit_record r = sample;
	char buf[AUDIT_LINE_MAX], year[16];
	time_t now = time(NULL);
	struct tm tm;

	r.ts_ms = 0;
	audit_format(&r, buf, sizeof(buf));
	gmtime_r(&now, &tm);
	snprintf(year, sizeof(year), "%04d-", tm.tm_year + 1900);
	cr_expect(!strncmp(buf, "{\"ts\":\"", 7) && !strncmp(buf + 7, year, 5), "%s", buf);
}

static char *read_all(const char *path)
{
	static char text[65536];
	FILE *fp = fopen(path, "r");
	size_t n;

	cr_assert_not_null(fp, "%s", path);
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	fclose(fp);
	return text;
}

Test(audit, file_lines_are_appended_and_survive_rotation)
{
	char dir[] = "/tmp/postern-audit-XXXXXX", path[128], rotated[128];
	struct audit_record r = sample;
	struct audit_log *log;
	struct stat st;
	char *text;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	snprintf(rotated, sizeof(rotated), "%s/audit.log.1", dir);

	cr_assert_eq(audit_open(&log, path), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777 & ~0640, 0u, "mode %o", st.st_mode & 0777);
	r.route = "one";
	cr_expect_eq(audit_write(log, &r), 0);
	audit_close(log);

	/* Opening again appends. */
	cr_assert_eq(audit_open(&log, path), 0);
	r.route = "two";
	cr_expect_eq(audit_write(log, &r), 0);
	text = read_all(path);
	cr_expect(strstr(text, "\"route\":\"one\"") && strstr(text, "\"route\":\"two\""), "%s",
		  text);
	cr_expect_eq(strchr(strchr(text, '\n') + 1, '\n')[1], '\0', "two lines: %s", text);

	/* logrotate moves the file; reopen starts a new one, the old keeps its lines. */
	cr_assert_eq(rename(path, rotated), 0);
	cr_expect_eq(audit_reopen(log), 0);
	r.route = "three";
	cr_expect_eq(audit_write(log, &r), 0);
	audit_close(log);
	cr_expect_null(strstr(read_all(rotated), "three"));
	text = read_all(path);
	cr_expect(strstr(text, "\"route\":\"three\""), "%s", text);
	cr_expect_null(strstr(text, "\"route\":\"one\""));

	unlink(path);
	unlink(rotated);
	rmdir(dir);
}

Test(audit, open_errors)
{
	struct audit_log *log;

	cr_expect_eq(audit_open(&log, ""), -EINVAL);
	cr_expect_eq(audit_open(&log, "/nonexistent-dir-postern/audit.log"), -ENOENT);
	cr_assert_eq(audit_open(&log, "stderr"), 0);
	cr_expect_eq(audit_reopen(log), 0);
	audit_close(log);
	audit_close(NULL);
}
