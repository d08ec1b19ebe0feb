/*
 * allowlist.c — CIDR networks an upstream may be in (allowlist.h).
 *
 * A list is a few entries checked in order, exceptions first; linear search
 * is plenty for a check made once per upstream connection.
 */
#include "endpoint/allowlist.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	uint8_t family;		/* 4 or 6 */
	uint8_t prefix;		/* 0..32 or 0..128 */
	bool except;		/* refuses instead of allowing (default list only) */
	uint8_t addr[16];	/* network, host bits zero; IPv4 in addr[0..3] */
};

struct allowlist {
	struct entry *e;
	unsigned n, cap;
	bool is_default;
};

/*
 * The default list (allowlist.h says why each range is in or out). The
 * exceptions are metadata services that happen to sit inside an allowed
 * range; link-local, "this host", multicast and broadcast are simply not
 * listed.
 */
static const char *const default_except[] = {
	"100.100.100.200",	/* Alibaba Cloud metadata, inside 100.64.0.0/10 */
	"fd00:ec2::254",	/* AWS IPv6 instance metadata, inside fc00::/7 */
};

static const char *const default_allow[] = {
	"10.0.0.0/8",		/* RFC 1918 */
	"172.16.0.0/12",	/* RFC 1918 */
	"192.168.0.0/16",	/* RFC 1918 */
	"100.64.0.0/10",	/* RFC 6598, carrier-grade NAT */
	"127.0.0.0/8",		/* loopback */
	"::1/128",		/* loopback */
	"fc00::/7",		/* RFC 4193, unique local */
};

static const uint8_t v4_mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };

static int say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int allowlist_create(struct allowlist **out)
{
	struct allowlist *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	*out = a;
	return 0;
}

void allowlist_destroy(struct allowlist *a)
{
	if (!a)
		return;
	free(a->e);
	free(a);
}

/* Do the first @bits bits of @x and @y agree? */
static bool prefix_equal(const uint8_t *x, const uint8_t *y, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(x, y, bytes))
		return false;
	if (!rest)
		return true;
	return ((x[bytes] ^ y[bytes]) & (uint8_t)(0xff00 >> rest)) == 0;
}

static void clear_host_bits(uint8_t *addr, unsigned bits, unsigned total)
{
	for (unsigned i = bits; i < total; i++)
		addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

/* Canonical text of an entry's network, without the prefix. */
static void addr_text(const struct entry *e, char *text, size_t cap)
{
	if (!inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->addr, text, (socklen_t)cap))
		snprintf(text, cap, "?");
}

/* Strict decimal 0..@max, no sign, no leading zero: "/08" is a typo, not 8. */
static int parse_prefix(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_entry(const char *cidr, struct entry *e, char *why, size_t whylen)
{
	char host[INET6_ADDRSTRLEN + 1], net[INET6_ADDRSTRLEN];
	const char *slash = strchr(cidr, '/');
	size_t hlen = slash ? (size_t)(slash - cidr) : strlen(cidr);
	unsigned prefix, max;
	uint8_t orig[16];

	memset(e, 0, sizeof(*e));
	if (!*cidr)
		return say(why, whylen, "an empty network");
	if (hlen == 0 || hlen >= sizeof(host) || strchr(cidr, '%'))
		return say(why, whylen,
			   "'%.60s' is not an IP address or network (ADDR or ADDR/PREFIX, "
			   "numeric, no zone)",
			   cidr);
	memcpy(host, cidr, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, e->addr) == 1) {
		e->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, host, e->addr) == 1) {
		e->family = 6;
		max = 128;
	} else {
		return say(why, whylen,
			   "'%.60s' is not an IP address (IPv4 a.b.c.d or IPv6, numeric)", host);
	}
	prefix = max;
	if (slash && parse_prefix(slash + 1, max, &prefix))
		return say(why, whylen, "'%.60s': the prefix length must be a number from 0 to %u",
			   cidr, max);
	memcpy(orig, e->addr, sizeof(orig));
	clear_host_bits(e->addr, prefix, max);
	e->prefix = (uint8_t)prefix;
	if (memcmp(orig, e->addr, sizeof(orig))) {
		addr_text(e, net, sizeof(net));
		return say(why, whylen, "'%.60s' has host bits set past the prefix (the network is "
			   "%s/%u)", cidr, net, prefix);
	}
	/* allowlist.h: mapped addresses are IPv4; store the entry the way it will match. */
	if (e->family == 6 && prefix >= 96 && !memcmp(e->addr, v4_mapped_prefix, 12)) {
		memmove(e->addr, e->addr + 12, 4);
		memset(e->addr + 4, 0, 12);
		e->family = 4;
		e->prefix = (uint8_t)(prefix - 96);
	}
	return 0;
}

static int add_entry(struct allowlist *a, const struct entry *e)
{
	for (unsigned i = 0; i < a->n; i++)
		if (a->e[i].family == e->family && a->e[i].prefix == e->prefix &&
		    a->e[i].except == e->except && !memcmp(a->e[i].addr, e->addr, 16))
			return 0;
	if (a->n == ALLOWLIST_MAX)
		return -ENOSPC;
	if (a->n == a->cap) {
		unsigned cap = a->cap ? 2 * a->cap : 16;
		struct entry *p = realloc(a->e, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		a->e = p;
		a->cap = cap;
	}
	/* Exceptions go before every allowing entry, so they are checked first. */
	if (e->except) {
		unsigned at = 0;

		while (at < a->n && a->e[at].except)
			at++;
		memmove(&a->e[at + 1], &a->e[at], (a->n - at) * sizeof(*e));
		a->e[at] = *e;
	} else {
		a->e[a->n] = *e;
	}
	a->n++;
	return 0;
}

int allowlist_add(struct allowlist *a, const char *cidr, char *why, size_t whylen)
{
	struct entry e;
	int ret;

	ret = parse_entry(cidr, &e, why, whylen);
	if (ret)
		return ret;
	ret = add_entry(a, &e);
	if (ret == -ENOSPC)
		say(why, whylen, "at most %d networks", ALLOWLIST_MAX);
	else if (ret)
		say(why, whylen, "out of memory");
	if (!ret)
		a->is_default = false;
	return ret;
}

int allowlist_create_default(struct allowlist **out)
{
	struct allowlist *a;
	struct entry e;
	char why[ALLOWLIST_REASON_MAX];
	int ret;

	ret = allowlist_create(&a);
	if (ret)
		return ret;
	for (unsigned i = 0; i < sizeof(default_except) / sizeof(default_except[0]); i++) {
		ret = parse_entry(default_except[i], &e, why, sizeof(why));
		e.except = true;
		if (!ret)
			ret = add_entry(a, &e);
		if (ret)
			goto err_list;
	}
	for (unsigned i = 0; i < sizeof(default_allow) / sizeof(default_allow[0]); i++) {
		ret = parse_entry(default_allow[i], &e, why, sizeof(why));
		if (!ret)
			ret = add_entry(a, &e);
		if (ret)
			goto err_list;
	}
	a->is_default = true;
	*out = a;
	return 0;

err_list:
	allowlist_destroy(a);
	return ret == -EINVAL ? -ENOMEM : ret;	/* the table parses: only memory can fail */
}

static bool is_link_local(const struct entry *x)
{
	static const uint8_t fe80[2] = { 0xfe, 0x80 };
	static const uint8_t v4ll[2] = { 169, 254 };

	if (x->family == 4)
		return prefix_equal(x->addr, v4ll, 16);
	return prefix_equal(x->addr, fe80, 10);
}

bool allowlist_check(const struct allowlist *a, const struct sockaddr *sa, char *why,
		     size_t whylen)
{
	char text[INET6_ADDRSTRLEN];
	struct entry x = { 0 };

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		x.family = 4;
		memcpy(x.addr, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		x.family = 6;
		memcpy(x.addr, &in6->sin6_addr, 16);
		if (!memcmp(x.addr, v4_mapped_prefix, 12)) {
			memmove(x.addr, x.addr + 12, 4);
			memset(x.addr + 4, 0, 12);
			x.family = 4;
		}
	} else {
		say(why, whylen, "address family %d is not IP", sa->sa_family);
		return false;
	}

	for (unsigned i = 0; i < a->n; i++) {
		const struct entry *e = &a->e[i];

		if (e->family != x.family || !prefix_equal(e->addr, x.addr, e->prefix))
			continue;
		if (!e->except)
			return true;
		addr_text(&x, text, sizeof(text));
		say(why, whylen, "%s is not in allowed_ips (a cloud metadata address, left out "
		    "of the default list)", text);
		return false;
	}
	addr_text(&x, text, sizeof(text));
	if (a->is_default && is_link_local(&x))
		say(why, whylen, "%s is not in allowed_ips (link-local, where cloud metadata "
		    "services live, is left out of the default list)", text);
	else if (a->is_default)
		say(why, whylen, "%s is not in allowed_ips (the default: private and loopback "
		    "ranges)", text);
	else
		say(why, whylen, "%s is not in allowed_ips", text);
	return false;
}

bool allowlist_is_default(const struct allowlist *a)
{
	return a->is_default;
}

unsigned allowlist_count(const struct allowlist *a)
{
	return a->n;
}

int allowlist_format(const struct allowlist *a, unsigned i, char text[ALLOWLIST_TEXT_MAX])
{
	char net[INET6_ADDRSTRLEN];

	if (i >= a->n)
		return -ERANGE;
	addr_text(&a->e[i], net, sizeof(net));
	snprintf(text, ALLOWLIST_TEXT_MAX, "%s%s/%u", a->e[i].except ? "!" : "", net,
		 a->e[i].prefix);
	return 0;
}
