/*
 * snmp.c — kernel UDP counters (snmp.h). /proc/net/snmp holds, per
 * protocol, a line of names and a line of values ("Udp: InDatagrams ...",
 * "Udp: 1361367 ..."); /proc/net/snmp6 one "Name value" pair per line.
 */
#include "bench/relaybench/snmp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FILE_MAX = 64 << 10 };

struct field {
	const char *name;
	size_t offset;
};

#define FIELD(n, f) { n, offsetof(struct snmp_udp, f) }

static const struct field fields[] = {
	FIELD("InDatagrams", in_datagrams),
	FIELD("OutDatagrams", out_datagrams),
	FIELD("NoPorts", no_ports),
	FIELD("InErrors", in_errors),
	FIELD("RcvbufErrors", rcvbuf_errors),
	FIELD("SndbufErrors", sndbuf_errors),
};

enum { N_FIELDS = sizeof(fields) / sizeof(fields[0]) };

static uint64_t *slot(struct snmp_udp *s, const char *name, size_t len)
{
	for (size_t i = 0; i < N_FIELDS; i++)
		if (strlen(fields[i].name) == len && !memcmp(fields[i].name, name, len))
			return (uint64_t *)((char *)s + fields[i].offset);
	return NULL;
}

/* The next whitespace-separated token of *@p and its length; NULL at the line's end. */
static const char *token(const char **p, size_t *len)
{
	const char *s = *p;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '\n')
		return NULL;
	*len = strcspn(s, " \t\n");
	*p = s + *len;
	return s;
}

static int parse_v4(const char *text, struct snmp_udp *out)
{
	const char *names = strstr(text, "\nUdp: "), *values;
	unsigned found = 0;

	if (!names && !strncmp(text, "Udp: ", 5))
		names = text;
	else if (names)
		names++;
	if (!names)
		return -EBADMSG;
	values = strchr(names, '\n');
	if (!values || strncmp(values + 1, "Udp: ", 5))
		return -EBADMSG;
	names += 4;
	values += 5;
	for (;;) {
		size_t nlen = 0, vlen = 0;
		const char *n = token(&names, &nlen), *v = token(&values, &vlen);
		uint64_t *dst;
		char *end;

		if (!n || !v)
			break;
		dst = slot(out, n, nlen);
		if (dst) {
			*dst += strtoull(v, &end, 10);
			if (end != v + vlen)
				return -EBADMSG;
			found++;
		}
	}
	return found == N_FIELDS ? 0 : -EBADMSG;
}

static void parse_v6(const char *text, struct snmp_udp *out)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t nlen = 0, vlen = 0;
		const char *q = p, *n = token(&q, &nlen), *v = token(&q, &vlen);
		uint64_t *dst;

		if (!n || !v || nlen <= 4 || strncmp(n, "Udp6", 4))
			continue;
		dst = slot(out, n + 4, nlen - 4);
		if (dst)
			*dst += strtoull(v, NULL, 10);
	}
}

int snmp_udp_parse(const char *v4, const char *v6, struct snmp_udp *out)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = parse_v4(v4, out);
	if (ret)
		return ret;
	if (v6)
		parse_v6(v6, out);
	return 0;
}

/* @return the file's text (malloc'd, NUL-terminated) or NULL with errno. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	n = fread(buf, 1, FILE_MAX, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

int snmp_udp_read(struct snmp_udp *out)
{
	char *v4 = slurp("/proc/net/snmp"), *v6;
	int ret;

	if (!v4)
		return -errno;
	v6 = slurp("/proc/net/snmp6");	/* absent without IPv6: fine */
	ret = snmp_udp_parse(v4, v6, out);
	free(v4);
	free(v6);
	return ret;
}

void snmp_udp_delta(const struct snmp_udp *before, const struct snmp_udp *after,
		    struct snmp_udp *d)
{
	for (size_t i = 0; i < N_FIELDS; i++) {
		uint64_t a = *(const uint64_t *)((const char *)after + fields[i].offset);
		uint64_t b = *(const uint64_t *)((const char *)before + fields[i].offset);

		*(uint64_t *)((char *)d + fields[i].offset) = a > b ? a - b : 0;
	}
}
