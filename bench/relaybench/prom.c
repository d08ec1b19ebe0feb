/*
 * prom.c — the relay's /metrics page into struct prom_relay (prom.h).
 *
 * Grammar (Prometheus exposition format 0.0.4, the subset a sample line
 * uses): name [ "{" label="value" { "," label="value" } [","] "}" ] value
 * [ timestamp ]. Label values may hold \\, \" and \n escapes. Values are
 * integers here (counters and gauges are printed with PRIu64); a float is
 * accepted and truncated.
 */
#include "bench/relaybench/prom.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "postern_relay_"

struct family {
	const char *name;
	size_t offset;		/* of a uint64_t in struct prom_relay */
};

#define F(n, f) { PREFIX n, offsetof(struct prom_relay, f) }

static const struct family families[] = {
	F("rx_packets_total", rx_packets),
	F("rx_bytes_total", rx_bytes),
	F("tx_packets_total", tx_packets),
	F("tx_bytes_total", tx_bytes),
	F("forwarded_packets_total", forwarded),
	F("handled_packets_total", handled),
	F("originated_packets_total", originated),
	F("handoff_out_packets_total", handoff_out),
	F("handoff_in_packets_total", handoff_in),
	F("handshakes_total", handshakes),
	F("cookies_sent_total", cookies_sent),
	F("busy_cycles_total", busy_cycles),
	F("idle_cycles_total", idle_cycles),
	F("busy_packets_total", busy_packets),
	F("dropped_packets_total", dropped_total),
	F("lost_packets_total", lost_total),
	F("sessions", sessions),
	F("channels", channels),
};

struct sample {
	const char *name;
	size_t name_len;
	char worker[16];		/* label values we use; "" when absent */
	char reason[PROM_REASON_LEN];
	uint64_t value;
};

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* Copy a label value (escapes resolved) into @dst (@cap bytes, truncating). */
static const char *label_value(const char *p, const char *end, char *dst, size_t cap)
{
	size_t n = 0;

	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end && *p != '"'; p++) {
		char c = *p;

		if (c == '\\') {
			if (++p >= end)
				return NULL;
			c = *p == 'n' ? '\n' : *p;
		}
		if (dst && n + 1 < cap)
			dst[n++] = c;
	}
	if (p >= end)
		return NULL;
	if (dst)
		dst[n] = '\0';
	return p + 1;
}

static const char *labels(const char *p, const char *end, struct sample *s)
{
	p++;	/* '{' */
	while (p < end && *p != '}') {
		const char *key = p;
		size_t klen;
		char *dst = NULL;
		size_t cap = 0;

		while (p < end && name_char(*p, p == key))
			p++;
		klen = (size_t)(p - key);
		if (!klen || p >= end || *p != '=')
			return NULL;
		if (klen == 6 && !memcmp(key, "worker", 6)) {
			dst = s->worker;
			cap = sizeof(s->worker);
		} else if (klen == 6 && !memcmp(key, "reason", 6)) {
			dst = s->reason;
			cap = sizeof(s->reason);
		}
		p = label_value(p + 1, end, dst, cap);
		if (!p)
			return NULL;
		if (p < end && *p == ',')
			p++;
	}
	return p < end ? p + 1 : NULL;
}

static bool parse_value(const char *p, const char *end, uint64_t *out)
{
	char buf[64], *e;
	size_t n = 0;
	double d;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (p < end && *p != ' ' && *p != '\t' && n + 1 < sizeof(buf))
		buf[n++] = *p++;
	buf[n] = '\0';
	if (!n)
		return false;
	if (strspn(buf, "0123456789") == n) {
		*out = strtoull(buf, &e, 10);
		return *e == '\0';
	}
	d = strtod(buf, &e);
	if (*e || isnan(d))
		return false;
	*out = d <= 0 ? 0 : d >= 1.8e19 ? UINT64_MAX : (uint64_t)d;
	return true;
}

/* @return 1 and *@s for a sample line, 0 for a line to skip, -EBADMSG. */
static int parse_line(const char *p, const char *end, struct sample *s)
{
	memset(s, 0, sizeof(*s));
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p == '#')
		return 0;
	s->name = p;
	while (p < end && name_char(*p, p == s->name))
		p++;
	s->name_len = (size_t)(p - s->name);
	if (s->name_len < sizeof(PREFIX) - 1 || memcmp(s->name, PREFIX, sizeof(PREFIX) - 1))
		return 0;
	if (p < end && *p == '{') {
		p = labels(p, end, s);
		if (!p)
			return -EBADMSG;
	}
	if (p >= end || (*p != ' ' && *p != '\t'))
		return -EBADMSG;
	return parse_value(p, end, &s->value) ? 1 : -EBADMSG;
}

static bool is(const struct sample *s, const char *name)
{
	return strlen(name) == s->name_len && !memcmp(s->name, name, s->name_len);
}

static int reason_slot(struct prom_relay *r, const char *name)
{
	for (unsigned i = 0; i < r->n_reasons; i++)
		if (!strcmp(r->reason[i], name))
			return (int)i;
	if (r->n_reasons == PROM_REASONS_MAX)
		return -1;
	strcpy(r->reason[r->n_reasons], name);
	return (int)r->n_reasons++;
}

static void account(struct prom_relay *r, const struct sample *s)
{
	unsigned long w = strtoul(s->worker, NULL, 10);
	bool has_worker = s->worker[0] != '\0' && w < PROM_WORKERS_MAX;
	int slot;

	r->seen = true;
	if (has_worker && w + 1 > r->n_workers)
		r->n_workers = (unsigned)w + 1;
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		if (!is(s, families[i].name))
			continue;
		*(uint64_t *)((char *)r + families[i].offset) += s->value;
		break;
	}
	if (has_worker && is(s, PREFIX "busy_cycles_total"))
		r->worker_busy_cycles[w] += s->value;
	if (has_worker && is(s, PREFIX "busy_packets_total"))
		r->worker_busy_packets[w] += s->value;
	if (is(s, PREFIX "dropped_packets_total") && s->reason[0]) {
		slot = reason_slot(r, s->reason);
		if (slot >= 0)
			r->dropped[slot] += s->value;
	}
}

int prom_parse_relay(const char *text, size_t len, struct prom_relay *out)
{
	const char *p = text, *end = text + len;
	struct sample s;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		int ret = parse_line(p, eol, &s);

		if (ret < 0)
			return ret;
		if (ret)
			account(out, &s);
		p = nl ? nl + 1 : end;
	}
	return out->seen ? 0 : -ENOENT;
}

static uint64_t sub(uint64_t after, uint64_t before)
{
	return after > before ? after - before : 0;
}

void prom_relay_delta(const struct prom_relay *before, const struct prom_relay *after,
		      struct prom_relay *d)
{
	*d = *after;
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		size_t off = families[i].offset;
		uint64_t a = *(const uint64_t *)((const char *)after + off);
		uint64_t b = *(const uint64_t *)((const char *)before + off);

		if (off == offsetof(struct prom_relay, sessions) ||
		    off == offsetof(struct prom_relay, channels))
			continue;	/* gauges */
		*(uint64_t *)((char *)d + off) = sub(a, b);
	}
	for (unsigned w = 0; w < PROM_WORKERS_MAX; w++) {
		d->worker_busy_cycles[w] = sub(after->worker_busy_cycles[w],
					       before->worker_busy_cycles[w]);
		d->worker_busy_packets[w] = sub(after->worker_busy_packets[w],
						before->worker_busy_packets[w]);
	}
	for (unsigned i = 0; i < after->n_reasons; i++) {
		uint64_t was = 0;

		for (unsigned j = 0; j < before->n_reasons; j++)
			if (!strcmp(before->reason[j], after->reason[i]))
				was = before->dropped[j];
		d->dropped[i] = sub(after->dropped[i], was);
	}
}

double prom_cycles_per_packet(const struct prom_relay *d)
{
	return d->busy_packets ? (double)d->busy_cycles / (double)d->busy_packets : 0.0;
}
