/*
 * iface.h — a DPDK port's layer-3 identity: its MAC, our addresses with their
 * on-link prefixes, the UDP listeners, a gateway per family, the MTU and the TX
 * checksum offloads enabled on its queues.
 *
 * The ethdev backend fills one struct dp_iface per port from the config and
 * hands it to dp_l2l3_create(), which keeps a copy. A port has a handful of
 * addresses and listeners, so every lookup here is a short linear scan.
 *
 * Addresses are struct pkt_addr style bytes: IPv4 in addr[0..3], network order.
 *
 * Listeners: a listener is one of our addresses and a UDP port, or a range of
 * ports [listeners[i].port, listener_port_hi[i]] (listener_port_hi[i] 0, or
 * not above the first port: that one port). The relay listens on single
 * ports; a range serves a client that sends from many ports of one address
 * (relaybench's DPDK transport, one port per emulated endpoint). Received
 * packets report the port they arrived on (pkt_meta.local_port); a range
 * listener sends from the port pkt_meta.local_port names (l2l3.h).
  *
 * Threads: no state of its own; a dp_iface is read-only once a dp_l2l3 holds it.
 */
#ifndef POSTERN_DATAPLANE_IFACE_H
#define POSTERN_DATAPLANE_IFACE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "relay/pkt.h"

enum {
	DP_IFACE_ADDRS_MAX = 8,
	DP_IFACE_LISTENERS_MAX = 16,
	DP_IFACE_MTU_DEFAULT = 1500,
	DP_IFACE_MTU_MIN = 1280,	/* IPv6's minimum (RFC 8200 5); ample for hop packets */
	DP_IFACE_MTU_MAX = 9000,
};

struct dp_ifaddr {
	uint8_t family;		/* PKT_AF_INET or PKT_AF_INET6 */
	uint8_t prefix_len;	/* on-link prefix: 0..32 or 0..128 */
	uint8_t addr[16];
};

struct dp_iface {
	struct rte_ether_addr mac;		/* unicast */
	struct dp_ifaddr addrs[DP_IFACE_ADDRS_MAX];
	unsigned n_addrs;
	/* pkt_meta.listener indexes this; each address must be one of addrs[] */
	struct pkt_addr listeners[DP_IFACE_LISTENERS_MAX];
	/* The last port of listener i's range; 0 (or <= its port): the one port */
	uint16_t listener_port_hi[DP_IFACE_LISTENERS_MAX];
	unsigned n_listeners;
	/*
	 * Next hop for peers outside every on-link prefix of their family; all
	 * zero: none, such peers are unreachable. Taken as on-link whatever the
	 * prefixes say (like "via X onlink"), so a /32 address with a gateway works.
	 */
	uint8_t gateway4[4];
	uint8_t gateway6[16];
	uint16_t mtu;		/* largest IP packet sent; 0: DP_IFACE_MTU_DEFAULT */
	/* RTE_ETH_TX_OFFLOAD_IPV4_CKSUM and/or _UDP_CKSUM, as enabled on the TX queue */
	uint64_t tx_offloads;
};

/*
 * Check @ifc: unicast MAC, 1..DP_IFACE_ADDRS_MAX unicast addresses with valid
 * prefixes, no duplicates, listeners on our addresses with ports 1..65535 and
 * no two on one address sharing a port, gateways unicast and not ours, MTU in
 * range.
 * @return 0, or -EINVAL with a short phrase in @why (a static string).
 */
int dp_iface_check(const struct dp_iface *ifc, const char **why);

/* @return true if @addr (4 or 16 bytes by @family) is one of our addresses. */
bool dp_iface_is_ours(const struct dp_iface *ifc, uint8_t family, const uint8_t *addr);

/*
 * @return the index of the listener on (@family, @addr) whose port or port
 * range holds @port, or -1.
 */
int dp_iface_listener_find(const struct dp_iface *ifc, uint8_t family, const uint8_t *addr,
			   uint16_t port);

/*
 * Where a packet to @dst goes on the link: @dst itself when it is inside an
 * on-link prefix of ours, else the family's gateway. @nh gets 16 bytes
 * (IPv4 in nh[0..3], the rest zero).
 * @return false when there is no next hop (off-link, no gateway).
 */
bool dp_iface_next_hop(const struct dp_iface *ifc, uint8_t family, const uint8_t *dst,
		       uint8_t nh[16]);

/*
 * The source address for a solicitation of @target: our address whose prefix
 * holds @target, else our first address of that family (written to @src,
 * 4 or 16 bytes). @return false if we have no address of that family.
 */
bool dp_iface_source_for(const struct dp_iface *ifc, uint8_t family, const uint8_t *target,
			 uint8_t *src);

/*
 * @return true if @addr can be a unicast host address on the wire: not
 * 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 or 240.0.0.0/4 (so not the broadcast
 * address either); not ::, ::1, ff00::/8 or ::ffff:0:0/96 (RFC 4291 2.5.5.2:
 * mapped addresses never appear in packets).
 */
bool dp_iface_unicast(uint8_t family, const uint8_t *addr);

/* The last port of listener @i: its listener_port_hi, or its port for a single-port listener. */
static inline uint16_t dp_iface_listener_hi(const struct dp_iface *ifc, unsigned i)
{
	uint16_t lo = ifc->listeners[i].port, hi = ifc->listener_port_hi[i];

	return hi > lo ? hi : lo;
}

/* The IP MTU in force: ifc->mtu, or DP_IFACE_MTU_DEFAULT when that is 0. */
unsigned dp_iface_mtu(const struct dp_iface *ifc);

#endif /* POSTERN_DATAPLANE_IFACE_H */
