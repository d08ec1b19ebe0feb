/*
 * addr.c — address text and sockaddr conversions (see addr.h).
 */
#include "dataplane/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Decimal 1..65535, digits only, no leading zeros beyond a lone digit. */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || (s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int dp_addr_parse(const char *text, struct pkt_addr *out, const char **why)
{
	char host[DP_ADDR_TEXT_MAX];
	struct pkt_addr a = { 0 };
	const char *colon, *host_start, *host_end;

	if (strlen(text) >= sizeof(host)) {
		*why = "too long for an address";
		return -EINVAL;
	}
	if (text[0] == '[') {
		host_start = text + 1;
		host_end = strchr(host_start, ']');
		if (!host_end || host_end[1] != ':') {
			*why = "expected [IPV6]:PORT";
			return -EINVAL;
		}
		colon = host_end + 1;
		a.family = PKT_AF_INET6;
	} else {
		host_start = text;
		colon = strrchr(text, ':');
		if (!colon) {
			*why = "expected IPV4:PORT or [IPV6]:PORT (the port is required)";
			return -EINVAL;
		}
		if (memchr(text, ':', (size_t)(colon - text))) {
			*why = "an IPv6 address needs brackets: [IPV6]:PORT";
			return -EINVAL;
		}
		host_end = colon;
		a.family = PKT_AF_INET;
	}
	memcpy(host, host_start, (size_t)(host_end - host_start));
	host[host_end - host_start] = '\0';
	if (inet_pton(a.family == PKT_AF_INET ? AF_INET : AF_INET6, host, a.addr) != 1) {
		*why = a.family == PKT_AF_INET ? "not an IPv4 address" : "not an IPv6 address";
		return -EINVAL;
	}
	if (parse_port(colon + 1, &a.port)) {
		*why = "the port must be a number from 1 to 65535";
		return -EINVAL;
	}
	*out = a;
	return 0;
}

void dp_addr_format(const struct pkt_addr *a, char out[DP_ADDR_TEXT_MAX])
{
	char host[INET6_ADDRSTRLEN];

	if (a->family == PKT_AF_INET) {
		inet_ntop(AF_INET, a->addr, host, sizeof(host));
		snprintf(out, DP_ADDR_TEXT_MAX, "%s:%u", host, a->port);
	} else if (a->family == PKT_AF_INET6) {
		inet_ntop(AF_INET6, a->addr, host, sizeof(host));
		snprintf(out, DP_ADDR_TEXT_MAX, "[%s]:%u", host, a->port);
	} else {
		snprintf(out, DP_ADDR_TEXT_MAX, "?");
	}
}

unsigned dp_addr_to_sockaddr(const struct pkt_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == PKT_AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->addr, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(a->port);
	memcpy(&sin6->sin6_addr, a->addr, 16);
	return sizeof(*sin6);
}

int dp_addr_from_sockaddr(const struct sockaddr *sa, unsigned len, struct pkt_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		a->family = PKT_AF_INET;
		a->port = ntohs(sin->sin_port);
		memcpy(a->addr, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		a->family = PKT_AF_INET6;
		a->port = ntohs(sin6->sin6_port);
		memcpy(a->addr, &sin6->sin6_addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}
