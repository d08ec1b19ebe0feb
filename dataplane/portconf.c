/*
 * portconf.c — a DPDK port's configuration: text forms, checks, and the
 * listen addresses spread over the ports (portconf.h).
 */
#include "dataplane/portconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static unsigned addr_len(uint8_t family)
{
	return family == PKT_AF_INET ? 4 : 16;
}

static bool all_zero(const uint8_t *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool is_name_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_';
}

static bool vdev_name(const char *s, size_t n)
{
	if (n <= 4 || strncmp(s, "net_", 4))
		return false;
	for (size_t i = 4; i < n; i++)
		if (!is_name_char(s[i]))
			return false;
	return true;
}

int dp_portconf_set_device(struct dp_portconf *pc, const char *text, const char **why)
{
	size_t name = strcspn(text, ","), len = strlen(text);

	if (!len) {
		*why = "must not be empty";
		return -EINVAL;
	}
	if (len >= sizeof(pc->device)) {
		*why = "a device is at most 255 characters";
		return -EINVAL;
	}
	if (strpbrk(text, " \t\n\r;\"'")) {
		*why = "a device has no blanks, quotes or ';'";
		return -EINVAL;
	}
	if (name >= DP_PORTCONF_NAME_MAX) {
		*why = "a device name is at most 63 characters";
		return -EINVAL;
	}
	if (!dp_portconf_is_pci(text) && !vdev_name(text, name)) {
		*why = "expected a virtual device (net_NAME[,ARGS]) or a PCI address "
		       "(DDDD:BB:DD.F[,ARGS])";
		return -EINVAL;
	}
	if (name + 1 == len) {
		*why = "a comma with no device arguments after it";
		return -EINVAL;
	}
	memcpy(pc->device, text, len + 1);
	return 0;
}

/* inet_pton for either family; @return the family, or 0. */
static uint8_t parse_ip(const char *text, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, text, out) == 1)
		return PKT_AF_INET;
	if (inet_pton(AF_INET6, text, out) == 1)
		return PKT_AF_INET6;
	return 0;
}

int dp_portconf_add_address(struct dp_portconf *pc, const char *text, const char **why)
{
	char host[DP_PORTCONF_TEXT_MAX];
	struct dp_ifaddr a = { 0 };
	const char *slash = strchr(text, '/');
	char *end;
	long len;

	if (!slash) {
		*why = "expected ADDRESS/PREFIX, e.g. 192.0.2.1/24 (the prefix is required)";
		return -EINVAL;
	}
	if ((size_t)(slash - text) >= sizeof(host)) {
		*why = "too long for an address";
		return -EINVAL;
	}
	memcpy(host, text, (size_t)(slash - text));
	host[slash - text] = '\0';
	a.family = parse_ip(host, a.addr);
	if (!a.family) {
		*why = "not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	if (slash[1] < '0' || slash[1] > '9') {
		*why = "the prefix length must be a number";
		return -EINVAL;
	}
	len = strtol(slash + 1, &end, 10);
	if (*end || len < 0 || len > (long)addr_len(a.family) * 8) {
		*why = a.family == PKT_AF_INET ? "an IPv4 prefix length is 0 to 32" :
						 "an IPv6 prefix length is 0 to 128";
		return -EINVAL;
	}
	a.prefix_len = (uint8_t)len;
	if (!dp_iface_unicast(a.family, a.addr)) {
		*why = "a port address must be unicast (not loopback, multicast or unspecified)";
		return -EINVAL;
	}
	for (unsigned i = 0; i < pc->n_addrs; i++) {
		if (pc->addrs[i].family == a.family &&
		    !memcmp(pc->addrs[i].addr, a.addr, addr_len(a.family))) {
			*why = "listed twice";
			return -EINVAL;
		}
	}
	if (pc->n_addrs == DP_IFACE_ADDRS_MAX) {
		*why = "at most 8 addresses per port";
		return -EINVAL;
	}
	pc->addrs[pc->n_addrs++] = a;
	return 0;
}

int dp_portconf_set_gateway(struct dp_portconf *pc, const char *text, const char **why)
{
	uint8_t ip[16];
	uint8_t family = parse_ip(text, ip);
	uint8_t *gw;

	if (!family) {
		*why = "not an IPv4 or IPv6 address (no prefix, no port)";
		return -EINVAL;
	}
	if (!dp_iface_unicast(family, ip)) {
		*why = "a gateway must be a unicast address";
		return -EINVAL;
	}
	gw = family == PKT_AF_INET ? pc->gateway4 : pc->gateway6;
	if (!all_zero(gw, addr_len(family))) {
		*why = family == PKT_AF_INET ? "a second IPv4 gateway" : "a second IPv6 gateway";
		return -EINVAL;
	}
	memcpy(gw, ip, addr_len(family));
	return 0;
}

int dp_portconf_set_mtu(struct dp_portconf *pc, long long mtu, const char **why)
{
	if (mtu < DP_IFACE_MTU_MIN || mtu > DP_IFACE_MTU_MAX) {
		*why = "the MTU must be 1280 to 9000";
		return -EINVAL;
	}
	pc->mtu = (uint16_t)mtu;
	return 0;
}

static bool has_family(const struct dp_portconf *pc, uint8_t family)
{
	for (unsigned i = 0; i < pc->n_addrs; i++)
		if (pc->addrs[i].family == family)
			return true;
	return false;
}

static bool is_ours(const struct dp_portconf *pc, uint8_t family, const uint8_t *ip)
{
	for (unsigned i = 0; i < pc->n_addrs; i++)
		if (pc->addrs[i].family == family &&
		    !memcmp(pc->addrs[i].addr, ip, addr_len(family)))
			return true;
	return false;
}

int dp_portconf_check(const struct dp_portconf *pc, const char **why)
{
	if (!pc->device[0]) {
		*why = "no device";
		return -EINVAL;
	}
	if (!pc->n_addrs) {
		*why = "no address: a port needs at least one ADDRESS/PREFIX";
		return -EINVAL;
	}
	if (!all_zero(pc->gateway4, 4) && !has_family(pc, PKT_AF_INET)) {
		*why = "an IPv4 gateway, but no IPv4 address to reach it from";
		return -EINVAL;
	}
	if (!all_zero(pc->gateway6, 16) && !has_family(pc, PKT_AF_INET6)) {
		*why = "an IPv6 gateway, but no IPv6 address to reach it from";
		return -EINVAL;
	}
	if (is_ours(pc, PKT_AF_INET, pc->gateway4) || is_ours(pc, PKT_AF_INET6, pc->gateway6)) {
		*why = "the gateway is one of the port's own addresses";
		return -EINVAL;
	}
	return 0;
}

/* One "key=value" element of the flag form. */
static int parse_element(struct dp_portconf *pc, char *e, const char **why)
{
	char *eq = strchr(e, '='), *end;
	long long mtu;

	if (!eq) {
		*why = "expected address=, gateway= or mtu= after the device";
		return -EINVAL;
	}
	*eq = '\0';
	if (!strcmp(e, "address"))
		return dp_portconf_add_address(pc, eq + 1, why);
	if (!strcmp(e, "gateway"))
		return dp_portconf_set_gateway(pc, eq + 1, why);
	if (!strcmp(e, "mtu")) {
		if (eq[1] < '0' || eq[1] > '9')
			goto bad_mtu;
		mtu = strtoll(eq + 1, &end, 10);
		if (*end)
			goto bad_mtu;
		return dp_portconf_set_mtu(pc, mtu, why);
	}
	*why = "unknown key: expected address=, gateway= or mtu=";
	return -EINVAL;

bad_mtu:
	*why = "the MTU must be a number from 1280 to 9000";
	return -EINVAL;
}

int dp_portconf_parse(struct dp_portconf *pc, const char *text, const char **why)
{
	char copy[DP_PORTCONF_DEVICE_MAX + 512];
	char *rest, *e;
	int ret;

	memset(pc, 0, sizeof(*pc));
	if (strlen(text) >= sizeof(copy)) {
		*why = "too long";
		return -EINVAL;
	}
	snprintf(copy, sizeof(copy), "%s", text);
	rest = copy;
	e = strsep(&rest, ";");
	ret = dp_portconf_set_device(pc, e, why);
	if (ret)
		return ret;
	while ((e = strsep(&rest, ";"))) {
		if (!*e)
			continue;
		ret = parse_element(pc, e, why);
		if (ret)
			return ret;
	}
	return dp_portconf_check(pc, why);
}

void dp_portconf_format_ip(uint8_t family, const uint8_t *addr, char out[DP_PORTCONF_TEXT_MAX])
{
	if (!inet_ntop(family == PKT_AF_INET ? AF_INET : AF_INET6, addr, out,
		       DP_PORTCONF_TEXT_MAX))
		snprintf(out, DP_PORTCONF_TEXT_MAX, "?");
}

void dp_portconf_format_ifaddr(const struct dp_ifaddr *a, char out[DP_PORTCONF_TEXT_MAX])
{
	char ip[DP_PORTCONF_TEXT_MAX];

	dp_portconf_format_ip(a->family, a->addr, ip);
	snprintf(out, DP_PORTCONF_TEXT_MAX, "%.45s/%u", ip, a->prefix_len);
}

bool dp_portconf_listen_is_wildcard(const struct pkt_addr *l)
{
	return all_zero(l->addr, addr_len(l->family));
}

static bool listed(const struct pkt_addr *out, int n, const struct pkt_addr *a)
{
	for (int i = 0; i < n; i++)
		if (pkt_addr_equal(&out[i], a))
			return true;
	return false;
}

int dp_portconf_listeners(const struct dp_portconf *pc, const struct pkt_addr *listen,
			  unsigned n_listen, struct pkt_addr *out)
{
	int n = 0;

	for (unsigned i = 0; i < n_listen; i++) {
		const struct pkt_addr *l = &listen[i];
		bool wild = dp_portconf_listen_is_wildcard(l);

		for (unsigned k = 0; k < pc->n_addrs; k++) {
			struct pkt_addr a = { .family = l->family, .port = l->port };

			if (pc->addrs[k].family != l->family)
				continue;
			if (!wild && memcmp(pc->addrs[k].addr, l->addr, addr_len(l->family)))
				continue;
			memcpy(a.addr, pc->addrs[k].addr, addr_len(l->family));
			if (listed(out, n, &a))
				continue;
			if (n == DP_IFACE_LISTENERS_MAX)
				return -E2BIG;
			out[n++] = a;
		}
	}
	return n;
}

int dp_portconf_check_listen(const struct dp_portconf *ports, unsigned n_ports,
			     const struct pkt_addr *listen, unsigned n_listen, unsigned *bad)
{
	struct pkt_addr out[DP_IFACE_LISTENERS_MAX];
	unsigned total = 0;

	for (unsigned i = 0; i < n_listen; i++) {
		bool found = dp_portconf_listen_is_wildcard(&listen[i]);

		for (unsigned p = 0; p < n_ports && !found; p++)
			found = is_ours(&ports[p], listen[i].family, listen[i].addr);
		if (!found) {
			*bad = i;
			return -EADDRNOTAVAIL;
		}
	}
	for (unsigned p = 0; p < n_ports; p++) {
		int n = dp_portconf_listeners(&ports[p], listen, n_listen, out);

		if (n < 0) {
			*bad = p;
			return n;
		}
		total += (unsigned)n;
	}
	return total ? 0 : -ENOENT;
}
