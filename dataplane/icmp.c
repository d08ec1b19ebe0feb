/*
 * icmp.c — echo replies, built in place (see icmp.h).
 */
#include "dataplane/icmp.h"
#include "dataplane/txv.h"

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>

enum {
	ICMP6_ECHO_REQUEST = 128,	/* RFC 4443 4.1 */
	ICMP6_ECHO_REPLY = 129,		/* RFC 4443 4.2 */
	REPLY_HOP_LIMIT = 64,
};

/* Send the frame back where it came from, from our MAC. */
static void turn_around(const struct dp_iface *ifc, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&ifc->mac, &eth->src_addr);
	m->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
	/* The RX path trimmed the frame to the IP length; pad it back if tiny. */
	dp_txv_frame_len(m, rte_pktmbuf_data_len(m));
}

enum dp_l2stats_drop dp_icmp_input4(const struct dp_iface *ifc, struct dp_l2stats *st,
				    struct rte_mbuf *m, bool *reply)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
							  sizeof(struct rte_ether_hdr));
	unsigned ihl = rte_ipv4_hdr_len(ip);
	unsigned len = rte_be_to_cpu_16(ip->total_length) - ihl;
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + ihl);
	rte_be32_t a;

	*reply = false;
	if (len < sizeof(*icmp))
		return DP_L2STATS_BAD_ICMP;
	/* RFC 792: the one's complement sum over the whole message, checksum included. */
	if (rte_raw_cksum(icmp, len) != 0xffff)
		return DP_L2STATS_BAD_ICMP;
	if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0 ||
	    ihl != sizeof(*ip))
		return DP_L2STATS_ICMP_IGNORED;

	a = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->time_to_live = REPLY_HOP_LIMIT;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	/* RFC 792: identifier, sequence number and data come back unchanged. */
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, len);
	turn_around(ifc, m);
	st->icmp4_echo_replies++;
	*reply = true;
	return DP_L2STATS_NONE;
}

enum dp_l2stats_drop dp_icmp_echo6(const struct dp_iface *ifc, struct dp_l2stats *st,
				   struct rte_mbuf *m, bool *reply)
{
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *,
							  sizeof(struct rte_ether_hdr));
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	uint8_t a[16];

	*reply = false;
	if (rte_be_to_cpu_16(ip->payload_len) < sizeof(*icmp))
		return DP_L2STATS_BAD_ICMP;
	if (icmp->icmp_type != ICMP6_ECHO_REQUEST || icmp->icmp_code != 0)
		return DP_L2STATS_ICMP_IGNORED;

	memcpy(a, ip->src_addr, 16);
	memcpy(ip->src_addr, ip->dst_addr, 16);
	memcpy(ip->dst_addr, a, 16);
	ip->hop_limits = REPLY_HOP_LIMIT;
	icmp->icmp_type = ICMP6_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	/* The pseudo-header sum is the same for any upper layer (RFC 8200 8.1). */
	icmp->icmp_cksum = rte_ipv6_udptcp_cksum(ip, icmp);
	turn_around(ifc, m);
	st->icmp6_echo_replies++;
	*reply = true;
	return DP_L2STATS_NONE;
}
