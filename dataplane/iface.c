/*
 * iface.c — a port's addresses, listeners and next hops (see iface.h).
 */
#include "dataplane/iface.h"

#include <errno.h>
#include <string.h>

static unsigned addr_len(uint8_t family)
{
	return family == PKT_AF_INET ? 4 : 16;
}

static bool family_ok(uint8_t family)
{
	return family == PKT_AF_INET || family == PKT_AF_INET6;
}

static bool all_zero(const uint8_t *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Do the first @bits bits of @a and @b agree? */
static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));

	if (memcmp(a, b, bytes))
		return false;
	return rest == 0 || ((a[bytes] ^ b[bytes]) & mask) == 0;
}

bool dp_iface_unicast(uint8_t family, const uint8_t *a)
{
	static const uint8_t loopback6[16] = { [15] = 1 };
	static const uint8_t mapped6[12] = { [10] = 0xff, [11] = 0xff };

	if (family == PKT_AF_INET)
		return a[0] != 0 && a[0] != 127 && a[0] < 224;
	if (family != PKT_AF_INET6)
		return false;
	return !all_zero(a, 16) && memcmp(a, loopback6, 16) != 0 && a[0] != 0xff &&
	       memcmp(a, mapped6, sizeof(mapped6)) != 0;
}

bool dp_iface_is_ours(const struct dp_iface *ifc, uint8_t family, const uint8_t *addr)
{
	for (unsigned i = 0; i < ifc->n_addrs; i++)
		if (ifc->addrs[i].family == family &&
		    memcmp(ifc->addrs[i].addr, addr, addr_len(family)) == 0)
			return true;
	return false;
}

int dp_iface_listener_find(const struct dp_iface *ifc, uint8_t family, const uint8_t *addr,
			   uint16_t port)
{
	for (unsigned i = 0; i < ifc->n_listeners; i++) {
		const struct pkt_addr *l = &ifc->listeners[i];

		uint16_t span = (uint16_t)(dp_iface_listener_hi(ifc, i) - l->port);

		/* One unsigned compare covers both ends; a single port has a span of 0. */
		if (l->family == family && (uint16_t)(port - l->port) <= span &&
		    memcmp(l->addr, addr, addr_len(family)) == 0)
			return (int)i;
	}
	return -1;
}

static bool on_link(const struct dp_iface *ifc, uint8_t family, const uint8_t *dst,
		    const struct dp_ifaddr **via)
{
	for (unsigned i = 0; i < ifc->n_addrs; i++) {
		const struct dp_ifaddr *a = &ifc->addrs[i];

		if (a->family == family && prefix_match(a->addr, dst, a->prefix_len)) {
			if (via)
				*via = a;
			return true;
		}
	}
	return false;
}

bool dp_iface_next_hop(const struct dp_iface *ifc, uint8_t family, const uint8_t *dst,
		       uint8_t nh[16])
{
	const uint8_t *gw = family == PKT_AF_INET ? ifc->gateway4 : ifc->gateway6;
	unsigned len = addr_len(family);

	memset(nh, 0, 16);
	if (on_link(ifc, family, dst, NULL)) {
		memcpy(nh, dst, len);
		return true;
	}
	if (all_zero(gw, len))
		return false;
	memcpy(nh, gw, len);
	return true;
}

bool dp_iface_source_for(const struct dp_iface *ifc, uint8_t family, const uint8_t *target,
			 uint8_t *src)
{
	const struct dp_ifaddr *via = NULL;

	if (!on_link(ifc, family, target, &via)) {
		for (unsigned i = 0; i < ifc->n_addrs && !via; i++)
			if (ifc->addrs[i].family == family)
				via = &ifc->addrs[i];
	}
	if (!via)
		return false;
	memcpy(src, via->addr, addr_len(family));
	return true;
}

unsigned dp_iface_mtu(const struct dp_iface *ifc)
{
	return ifc->mtu ? ifc->mtu : DP_IFACE_MTU_DEFAULT;
}

static int check_addrs(const struct dp_iface *ifc, const char **why)
{
	if (ifc->n_addrs == 0 || ifc->n_addrs > DP_IFACE_ADDRS_MAX) {
		*why = "a port needs 1 to 8 addresses";
		return -EINVAL;
	}
	for (unsigned i = 0; i < ifc->n_addrs; i++) {
		const struct dp_ifaddr *a = &ifc->addrs[i];

		if (!family_ok(a->family)) {
			*why = "address family must be IPv4 or IPv6";
			return -EINVAL;
		}
		if (a->prefix_len > addr_len(a->family) * 8) {
			*why = "prefix length too long for the address family";
			return -EINVAL;
		}
		if (!dp_iface_unicast(a->family, a->addr)) {
			*why = "a port address must be unicast";
			return -EINVAL;
		}
		for (unsigned j = 0; j < i; j++)
			if (ifc->addrs[j].family == a->family &&
			    !memcmp(ifc->addrs[j].addr, a->addr, addr_len(a->family))) {
				*why = "duplicate port address";
				return -EINVAL;
			}
	}
	return 0;
}

static int check_listeners(const struct dp_iface *ifc, const char **why)
{
	if (ifc->n_listeners == 0 || ifc->n_listeners > DP_IFACE_LISTENERS_MAX) {
		*why = "a port needs 1 to 16 listeners";
		return -EINVAL;
	}
	for (unsigned i = 0; i < ifc->n_listeners; i++) {
		const struct pkt_addr *l = &ifc->listeners[i];

		if (!family_ok(l->family) || !dp_iface_is_ours(ifc, l->family, l->addr)) {
			*why = "a listener must be on one of the port's addresses";
			return -EINVAL;
		}
		if (l->port == 0) {
			*why = "a listener needs a port from 1 to 65535";
			return -EINVAL;
		}
		for (unsigned j = 0; j < i; j++) {
			const struct pkt_addr *o = &ifc->listeners[j];

			/* Two listeners on one address sharing a port: which would get it? */
			if (o->family == l->family &&
			    !memcmp(o->addr, l->addr, addr_len(l->family)) &&
			    l->port <= dp_iface_listener_hi(ifc, j) &&
			    o->port <= dp_iface_listener_hi(ifc, i)) {
				*why = "duplicate listener (or overlapping port ranges)";
				return -EINVAL;
			}
		}
	}
	return 0;
}

int dp_iface_check(const struct dp_iface *ifc, const char **why)
{
	int ret;

	if (!rte_is_valid_assigned_ether_addr(&ifc->mac)) {
		*why = "the port MAC must be unicast and not zero";
		return -EINVAL;
	}
	ret = check_addrs(ifc, why);
	if (ret)
		return ret;
	ret = check_listeners(ifc, why);
	if (ret)
		return ret;
	if ((!all_zero(ifc->gateway4, 4) &&
	     (!dp_iface_unicast(PKT_AF_INET, ifc->gateway4) ||
	      dp_iface_is_ours(ifc, PKT_AF_INET, ifc->gateway4))) ||
	    (!all_zero(ifc->gateway6, 16) &&
	     (!dp_iface_unicast(PKT_AF_INET6, ifc->gateway6) ||
	      dp_iface_is_ours(ifc, PKT_AF_INET6, ifc->gateway6)))) {
		*why = "a gateway must be a unicast address that is not the port's own";
		return -EINVAL;
	}
	if (ifc->mtu && (ifc->mtu < DP_IFACE_MTU_MIN || ifc->mtu > DP_IFACE_MTU_MAX)) {
		*why = "MTU must be 1280 to 9000";
		return -EINVAL;
	}
	return 0;
}
