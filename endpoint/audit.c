/*
 * audit.c — one JSON line per stream (audit.h).
 */
#include "endpoint/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct audit_log {
	int fd;
	bool is_stderr;
	char *path;
};

enum {
	/*
	 * Escaped bytes per string field, "..." included: six fields of this
	 * size, the keys, five 20-digit numbers and the timestamp stay well
	 * below AUDIT_LINE_MAX.
	 */
	FIELD_MAX = 480,
};

static const char *const reason_names[AUDIT_REASON_COUNT] = {
	[AUDIT_FIN] = "fin",
	[AUDIT_RESET] = "reset",
	[AUDIT_UPSTREAM_RESET] = "upstream_reset",
	[AUDIT_UPSTREAM_REFUSED] = "upstream_refused",
	[AUDIT_NOT_ALLOWED] = "not_allowed",
	[AUDIT_UNKNOWN_ROUTE] = "unknown_route",
	[AUDIT_BAD_HEADER] = "bad_header",
	[AUDIT_CONNECTION_LOST] = "connection_lost",
	[AUDIT_SHUTDOWN] = "shutdown",
};

const char *audit_reason_name(enum audit_reason reason)
{
	if ((unsigned)reason >= AUDIT_REASON_COUNT)
		return "unknown";
	return reason_names[reason];
}

/*
 * Length of the well-formed UTF-8 sequence at @s (RFC 3629 §4: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 if it is not one.
 */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
	unsigned char b = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		n = 2;
	else if (b >= 0xe0 && b <= 0xef)
		n = 3;
	else if (b >= 0xf0 && b <= 0xf4)
		n = 4;
	else
		return 0;
	if (b == 0xe0)
		lo = 0xa0;
	else if (b == 0xed)
		hi = 0x9f;
	else if (b == 0xf0)
		lo = 0x90;
	else if (b == 0xf4)
		hi = 0x8f;
	if (avail < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* A growing line in a caller's buffer; the formatter never writes past end. */
struct line {
	char *p, *end;
};

static void put(struct line *l, const char *s, size_t n)
{
	if ((size_t)(l->end - l->p) < n)
		n = (size_t)(l->end - l->p);
	memcpy(l->p, s, n);
	l->p += n;
}

static void puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static void put_u64(struct line *l, const char *key, uint64_t v)
{
	char num[64];
	int n = snprintf(num, sizeof(num), ",\"%s\":%llu", key, (unsigned long long)v);

	put(l, num, (size_t)n);
}

/* @s as a JSON string (RFC 8259 §7), or null; at most FIELD_MAX bytes. */
static void put_string(struct line *l, const char *key, const char *s, bool first)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t left, used = 0;
	char esc[8];

	put(l, first ? "\"" : ",\"", first ? 1 : 2);
	puts_(l, key);
	put(l, "\":", 2);
	if (!s) {
		put(l, "null", 4);
		return;
	}
	put(l, "\"", 1);
	left = strlen(s);
	while (left) {
		size_t in = utf8_len(u, left), out;
		const char *src = esc;

		if (in == 1 && (*u < 0x20 || *u == '"' || *u == '\\')) {
			switch (*u) {
			case '"': memcpy(esc, "\\\"", 2); out = 2; break;
			case '\\': memcpy(esc, "\\\\", 2); out = 2; break;
			case '\n': memcpy(esc, "\\n", 2); out = 2; break;
			case '\r': memcpy(esc, "\\r", 2); out = 2; break;
			case '\t': memcpy(esc, "\\t", 2); out = 2; break;
			default:
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[*u >> 4];
				esc[5] = hex[*u & 15];
				out = 6;
				break;
			}
		} else if (in == 0) {
			memcpy(esc, "\\ufffd", 6);	/* U+FFFD REPLACEMENT CHARACTER */
			out = 6;
			in = 1;
		} else {
			src = (const char *)u;
			out = in;
		}
		if (used + out > FIELD_MAX - 3) {
			put(l, "...", 3);
			break;
		}
		put(l, src, out);
		used += out;
		u += in;
		left -= in;
	}
	put(l, "\"", 1);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int audit_format(const struct audit_record *r, char *buf, size_t cap)
{
	struct line l = { .p = buf, .end = buf + cap - 1 };
	uint64_t ms = r->ts_ms ? r->ts_ms : now_ms();
	time_t sec = (time_t)(ms / 1000);
	char ts[64];
	struct tm tm;

	if (cap < AUDIT_LINE_MAX)
		return -ENOSPC;
	if (!gmtime_r(&sec, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ms % 1000));
	put(&l, "{", 1);
	put_string(&l, "ts", ts, true);
	put_string(&l, "route", r->route, false);
	put_string(&l, "agent", r->agent, false);
	put_string(&l, "principal", r->principal, false);
	put_string(&l, "relay", r->relay, false);
	put_string(&l, "upstream", r->upstream, false);
	put_u64(&l, "bytes_up", r->bytes_up);
	put_u64(&l, "bytes_down", r->bytes_down);
	put_u64(&l, "duration_ms", r->duration_ms);
	put_string(&l, "reason", audit_reason_name(r->reason), false);
	put_string(&l, "detail", r->detail, false);
	put(&l, "}\n", 2);
	*l.p = '\0';
	return (int)(l.p - buf);
}

static int open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

	return fd < 0 ? -errno : fd;
}

int audit_open(struct audit_log **out, const char *dest)
{
	struct audit_log *log;
	int ret;

	if (!dest || !dest[0])
		return -EINVAL;
	log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	if (!strcmp(dest, "stderr")) {
		log->fd = STDERR_FILENO;
		log->is_stderr = true;
		*out = log;
		return 0;
	}
	log->path = strdup(dest);
	if (!log->path) {
		ret = -ENOMEM;
		goto err_log;
	}
	log->fd = open_file(dest);
	if (log->fd < 0) {
		ret = log->fd;
		goto err_path;
	}
	*out = log;
	return 0;

err_path:
	free(log->path);
err_log:
	free(log);
	return ret;
}

int audit_reopen(struct audit_log *log)
{
	int fd;

	if (log->is_stderr)
		return 0;
	fd = open_file(log->path);
	if (fd < 0)
		return fd;
	close(log->fd);
	log->fd = fd;
	return 0;
}

int audit_write(struct audit_log *log, const struct audit_record *r)
{
	char buf[AUDIT_LINE_MAX];
	int len = audit_format(r, buf, sizeof(buf));
	ssize_t n;

	do
		n = write(log->fd, buf, (size_t)len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == len ? 0 : -EIO;
}

void audit_close(struct audit_log *log)
{
	if (!log)
		return;
	if (!log->is_stderr)
		close(log->fd);
	free(log->path);
	free(log);
}
