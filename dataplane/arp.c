/*
 * arp.c — ARP replies, learning and requests (see arp.h). Field names and the
 * order of checks follow RFC 826's "Packet Reception" section.
 */
#include "dataplane/arp.h"

#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>

enum {
	ARP_FRAME_LEN = sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr),
};

static bool header_ok(const struct rte_arp_hdr *arp)
{
	uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);

	return arp->arp_hardware == RTE_BE16(RTE_ARP_HRD_ETHER) &&
	       arp->arp_protocol == RTE_BE16(RTE_ETHER_TYPE_IPV4) &&
	       arp->arp_hlen == RTE_ETHER_ADDR_LEN && arp->arp_plen == 4 &&
	       (op == RTE_ARP_OP_REQUEST || op == RTE_ARP_OP_REPLY);
}

/* Turn the request in @m into our reply for @tip, in place. */
static void make_reply(const struct dp_iface *ifc, struct rte_mbuf *m, uint32_t tip)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	struct rte_arp_ipv4 *d = &arp->arp_data;

	rte_ether_addr_copy(&d->arp_sha, &eth->dst_addr);
	rte_ether_addr_copy(&ifc->mac, &eth->src_addr);
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&d->arp_sha, &d->arp_tha);
	d->arp_tip = d->arp_sip;	/* 0.0.0.0 for a probe: RFC 5227 2.1.1 */
	rte_ether_addr_copy(&ifc->mac, &d->arp_sha);
	d->arp_sip = tip;
	/* Whatever the request carried as padding is not echoed back. */
	dp_txv_frame_len(m, ARP_FRAME_LEN);
	m->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
}

enum dp_l2stats_drop dp_arp_input(const struct dp_iface *ifc, struct dp_neigh *nc,
				  struct dp_l2stats *st, struct rte_mbuf *m, uint64_t now_ns,
				  struct dp_txv *tx, bool *reply)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	const struct rte_arp_ipv4 *d = &arp->arp_data;
	uint8_t sip[16] = { 0 }, tip[4];
	bool for_us;

	*reply = false;
	if (rte_pktmbuf_data_len(m) < ARP_FRAME_LEN)
		return DP_L2STATS_RUNT;
	if (!header_ok(arp) || !rte_is_valid_assigned_ether_addr(&d->arp_sha))
		return DP_L2STATS_BAD_ARP;
	memcpy(sip, &d->arp_sip, 4);
	memcpy(tip, &d->arp_tip, 4);
	if (rte_is_same_ether_addr(&d->arp_sha, &ifc->mac) ||
	    dp_iface_is_ours(ifc, PKT_AF_INET, sip))
		return DP_L2STATS_FROM_US;

	/* RFC 826: merge the sender if known; add it only if we are the target. */
	for_us = dp_iface_is_ours(ifc, PKT_AF_INET, tip);
	if (dp_iface_unicast(PKT_AF_INET, sip))
		dp_neigh_learn(nc, PKT_AF_INET, sip, &d->arp_sha,
			       DP_NEIGH_OVERRIDE | DP_NEIGH_CONFIRM |
			       (for_us ? DP_NEIGH_CREATE : 0), now_ns, tx);
	if (d->arp_sip == d->arp_tip && d->arp_sip != 0) {
		st->arp_gratuitous_in++;
		return DP_L2STATS_NONE;
	}
	if (!for_us)
		return DP_L2STATS_ARP_NOT_OURS;
	if (arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REPLY)) {
		st->arp_replies_in++;
		return DP_L2STATS_NONE;
	}
	st->arp_requests_in++;
	make_reply(ifc, m, d->arp_tip);
	st->arp_replies_out++;
	*reply = true;
	return DP_L2STATS_NONE;
}

struct rte_mbuf *dp_arp_request(const struct dp_iface *ifc, struct rte_mempool *pool,
				const uint8_t *tip, const struct rte_ether_addr *unicast)
{
	static const struct rte_ether_addr broadcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	uint8_t sip[4];
	struct rte_mbuf *m;

	if (!dp_iface_source_for(ifc, PKT_AF_INET, tip, sip))
		return NULL;
	m = rte_pktmbuf_alloc(pool);
	if (!m)
		return NULL;
	if (!dp_txv_frame_len(m, ARP_FRAME_LEN)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	arp = (struct rte_arp_hdr *)(eth + 1);
	rte_ether_addr_copy(unicast ? unicast : &broadcast, &eth->dst_addr);
	rte_ether_addr_copy(&ifc->mac, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(&ifc->mac, &arp->arp_data.arp_sha);
	memcpy(&arp->arp_data.arp_sip, sip, 4);
	/* Target hardware address unknown: zero, as Linux sends it (RFC 5227 2.1.1). */
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	memcpy(&arp->arp_data.arp_tip, tip, 4);
	return m;
}
