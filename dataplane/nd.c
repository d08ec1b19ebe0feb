/*
 * nd.c — neighbour solicitations and advertisements (see nd.h). Validation
 * follows RFC 4861 7.1.1 (NS) and 7.1.2 (NA); processing 7.2.3-7.2.5.
 */
#include "dataplane/nd.h"

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>

/* RFC 4861 4.3 and 4.4: NS and NA share this layout. */
struct nd_msg {
	uint8_t type;
	uint8_t code;
	rte_be16_t cksum;
	rte_be32_t flags;	/* NA: R, S, O in the top bits; NS: reserved */
	uint8_t target[16];
} __rte_packed;

/*
 * RFC 4861 4.6.1: source/target link-layer address option, for Ethernet. Not
 * packed: the MAC sits at offset 2, and options start 8-byte aligned after
 * the 2-byte aligned Ethernet header, as rte_ether_addr requires.
 */
struct nd_opt_lla {
	uint8_t type;
	uint8_t len;		/* in units of 8 bytes: 1 */
	struct rte_ether_addr mac;
};

enum {
	ND_OPT_SLLA = 1,
	ND_OPT_TLLA = 2,
	ND_HOP_LIMIT = 255,	/* RFC 4861 7.1: proves the sender is on-link */
	ND_FRAME_LEN = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv6_hdr) +
		       sizeof(struct nd_msg) + sizeof(struct nd_opt_lla),
};

#define ND_NA_ROUTER	RTE_BE32(0x80000000u)
#define ND_NA_SOLICITED	RTE_BE32(0x40000000u)
#define ND_NA_OVERRIDE	RTE_BE32(0x20000000u)

static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };

/* RFC 4291 2.7.1: ff02::1:ffXX:XXXX, the low 24 bits of @addr. */
static void solicited_node(const uint8_t *addr, uint8_t out[16])
{
	static const uint8_t prefix[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };

	memcpy(out, prefix, sizeof(prefix));
	memcpy(out + 13, addr + 13, 3);
}

/* RFC 2464 7: 33:33 followed by the low 32 bits of the group address. */
static void multicast_mac(const uint8_t *group, struct rte_ether_addr *mac)
{
	mac->addr_bytes[0] = 0x33;
	mac->addr_bytes[1] = 0x33;
	memcpy(&mac->addr_bytes[2], group + 12, 4);
}

static bool is_unspecified(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

/*
 * Walk the options after the fixed part (RFC 4861 4.6): every option has a
 * non-zero length inside the message. Remember a link-layer address option of
 * type @want (the first one, Ethernet-sized).
 * @return false if the options are malformed.
 */
static bool parse_options(const uint8_t *p, unsigned len, uint8_t want,
			  const struct rte_ether_addr **lla)
{
	*lla = NULL;
	while (len) {
		unsigned olen;

		if (len < 2 || p[1] == 0)
			return false;
		olen = p[1] * 8u;
		if (olen > len)
			return false;
		if (p[0] == want && p[1] == 1 && !*lla)
			*lla = &((const struct nd_opt_lla *)p)->mac;
		p += olen;
		len -= olen;
	}
	return true;
}

/* Our advertisement for @target, written over the solicitation in @m. */
static void make_advert(const struct dp_iface *ifc, struct rte_mbuf *m,
			const struct rte_ether_addr *dmac, const uint8_t *dip, bool solicited)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
	struct nd_msg *na = (struct nd_msg *)(ip + 1);
	struct nd_opt_lla *opt = (struct nd_opt_lla *)(na + 1);

	dp_txv_frame_len(m, ND_FRAME_LEN);
	rte_ether_addr_copy(dmac, &eth->dst_addr);
	rte_ether_addr_copy(&ifc->mac, &eth->src_addr);
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = RTE_BE16(sizeof(*na) + sizeof(*opt));
	ip->hop_limits = ND_HOP_LIMIT;
	/* The source is the address being advertised (RFC 4861 7.2.4). */
	memcpy(ip->src_addr, na->target, 16);
	memcpy(ip->dst_addr, dip, 16);
	na->type = DP_ND_ADVERT;
	na->code = 0;
	na->flags = ND_NA_OVERRIDE | (solicited ? ND_NA_SOLICITED : 0);
	opt->type = ND_OPT_TLLA;
	opt->len = 1;
	rte_ether_addr_copy(&ifc->mac, &opt->mac);
	na->cksum = 0;
	na->cksum = rte_ipv6_udptcp_cksum(ip, na);
	m->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
}

static enum dp_l2stats_drop solicitation(const struct dp_iface *ifc, struct dp_neigh *nc,
					 struct dp_l2stats *st, struct rte_mbuf *m,
					 uint64_t now_ns, struct dp_txv *tx, bool *reply)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
	struct nd_msg *ns = (struct nd_msg *)(ip + 1);
	unsigned len = rte_be_to_cpu_16(ip->payload_len);
	const struct rte_ether_addr *slla;
	struct rte_ether_addr dmac;
	uint8_t group[16], dip[16];
	bool dad = is_unspecified(ip->src_addr);

	if (!parse_options((const uint8_t *)(ns + 1), len - sizeof(*ns), ND_OPT_SLLA, &slla))
		return DP_L2STATS_BAD_ND;
	solicited_node(ns->target, group);
	/* 7.1.1: from ::, only to the solicited-node group and without SLLA. */
	if (dad && (memcmp(ip->dst_addr, group, 16) != 0 || slla))
		return DP_L2STATS_BAD_ND;
	if (slla && !rte_is_valid_assigned_ether_addr(slla))
		return DP_L2STATS_BAD_ND;
	if (!dp_iface_is_ours(ifc, PKT_AF_INET6, ns->target))
		return DP_L2STATS_ND_NOT_OURS;
	if (ip->dst_addr[0] == 0xff && memcmp(ip->dst_addr, group, 16) != 0)
		return DP_L2STATS_BAD_ND;
	if ((unsigned)m->buf_len - m->data_off < ND_FRAME_LEN)
		return DP_L2STATS_TX_NO_HEADROOM;	/* no room to write the answer */

	st->nd_solicits_in++;
	if (dad) {
		/* 7.2.4: answer to all-nodes, S clear; the other node then gives up. */
		multicast_mac(all_nodes, &dmac);
		memcpy(dip, all_nodes, 16);
	} else {
		if (slla)
			dp_neigh_learn(nc, PKT_AF_INET6, ip->src_addr, slla,
				       DP_NEIGH_CREATE | DP_NEIGH_OVERRIDE, now_ns, tx);
		/* No SLLA in a unicast NS: the sender is where the frame came from. */
		rte_ether_addr_copy(slla ? slla : &eth->src_addr, &dmac);
		memcpy(dip, ip->src_addr, 16);
	}
	make_advert(ifc, m, &dmac, dip, !dad);
	st->nd_adverts_out++;
	*reply = true;
	return DP_L2STATS_NONE;
}

static enum dp_l2stats_drop advertisement(const struct dp_iface *ifc, struct dp_neigh *nc,
					  struct dp_l2stats *st, struct rte_mbuf *m,
					  uint64_t now_ns, struct dp_txv *tx)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
	struct nd_msg *na = (struct nd_msg *)(ip + 1);
	unsigned len = rte_be_to_cpu_16(ip->payload_len);
	const struct rte_ether_addr *tlla;
	unsigned flags = 0;

	if (!parse_options((const uint8_t *)(na + 1), len - sizeof(*na), ND_OPT_TLLA, &tlla))
		return DP_L2STATS_BAD_ND;
	/* 7.1.2: a multicast advertisement cannot be solicited. */
	if (ip->dst_addr[0] == 0xff && (na->flags & ND_NA_SOLICITED))
		return DP_L2STATS_BAD_ND;
	if (is_unspecified(ip->src_addr))
		return DP_L2STATS_BAD_ND;
	if (tlla && !rte_is_valid_assigned_ether_addr(tlla))
		return DP_L2STATS_BAD_ND;
	if (dp_iface_is_ours(ifc, PKT_AF_INET6, na->target) ||
	    (tlla && rte_is_same_ether_addr(tlla, &ifc->mac)))
		return DP_L2STATS_FROM_US;

	st->nd_adverts_in++;
	if (na->flags & ND_NA_SOLICITED)
		flags |= DP_NEIGH_CONFIRM;
	if (na->flags & ND_NA_OVERRIDE)
		flags |= DP_NEIGH_OVERRIDE;
	/* 7.2.5: no entry, no learning; only answers to our own solicitations count. */
	dp_neigh_learn(nc, PKT_AF_INET6, na->target, tlla, flags, now_ns, tx);
	return DP_L2STATS_NONE;
}

enum dp_l2stats_drop dp_nd_input(const struct dp_iface *ifc, struct dp_neigh *nc,
				 struct dp_l2stats *st, struct rte_mbuf *m, uint64_t now_ns,
				 struct dp_txv *tx, bool *reply)
{
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *,
							  sizeof(struct rte_ether_hdr));
	const struct nd_msg *msg = (const struct nd_msg *)(ip + 1);

	*reply = false;
	/* 7.1.1, 7.1.2: hop limit 255, code 0, at least 24 bytes, target not multicast. */
	if (ip->hop_limits != ND_HOP_LIMIT ||
	    rte_be_to_cpu_16(ip->payload_len) < sizeof(*msg) || msg->code != 0 ||
	    msg->target[0] == 0xff)
		return DP_L2STATS_BAD_ND;
	if (msg->type == DP_ND_SOLICIT)
		return solicitation(ifc, nc, st, m, now_ns, tx, reply);
	return advertisement(ifc, nc, st, m, now_ns, tx);
}

struct rte_mbuf *dp_nd_solicit(const struct dp_iface *ifc, struct rte_mempool *pool,
			       const uint8_t *target, const struct rte_ether_addr *unicast)
{
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip;
	struct nd_msg *ns;
	struct nd_opt_lla *opt;
	struct rte_mbuf *m;
	uint8_t src[16];

	if (!dp_iface_source_for(ifc, PKT_AF_INET6, target, src))
		return NULL;
	m = rte_pktmbuf_alloc(pool);
	if (!m)
		return NULL;
	if (!dp_txv_frame_len(m, ND_FRAME_LEN)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip = (struct rte_ipv6_hdr *)(eth + 1);
	ns = (struct nd_msg *)(ip + 1);
	opt = (struct nd_opt_lla *)(ns + 1);

	/* 7.2.2: multicast to the solicited-node group, or unicast when probing. */
	if (unicast) {
		memcpy(ip->dst_addr, target, 16);
		rte_ether_addr_copy(unicast, &eth->dst_addr);
	} else {
		solicited_node(target, ip->dst_addr);
		multicast_mac(ip->dst_addr, &eth->dst_addr);
	}
	rte_ether_addr_copy(&ifc->mac, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = RTE_BE16(sizeof(*ns) + sizeof(*opt));
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = ND_HOP_LIMIT;
	memcpy(ip->src_addr, src, 16);
	ns->type = DP_ND_SOLICIT;
	ns->code = 0;
	ns->flags = 0;
	memcpy(ns->target, target, 16);
	opt->type = ND_OPT_SLLA;
	opt->len = 1;
	rte_ether_addr_copy(&ifc->mac, &opt->mac);
	ns->cksum = 0;
	ns->cksum = rte_ipv6_udptcp_cksum(ip, ns);
	return m;
}
