/*
 * l2l3.c — RX classification and TX encapsulation for one port (see l2l3.h).
 *
 * RX checks run outermost first and stop at the first failure, so each drop
 * has exactly one reason. Every length is checked against the bytes the mbuf
 * really holds once; afterwards the frame is trimmed to the IP length (NICs
 * deliver short frames padded to 60 bytes) and only that length is used.
 */
/* rte_ip.h's checksum verify helpers are marked experimental in 22.11. */
#define ALLOW_EXPERIMENTAL_API

#include "dataplane/l2l3.h"

#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_udp.h>

#include "dataplane/arp.h"
#include "dataplane/cksum.h"
#include "dataplane/icmp.h"
#include "dataplane/nd.h"
#include "relay/pkt.h"

enum {
	ETH_LEN = sizeof(struct rte_ether_hdr),
	IP4_LEN = sizeof(struct rte_ipv4_hdr),
	IP6_LEN = sizeof(struct rte_ipv6_hdr),
	UDP_LEN = sizeof(struct rte_udp_hdr),
	TX_TTL = 64,
	/* Smallest data room that holds any frame this layer originates. */
	POOL_DATA_MIN = 128,
};

/* What became of a frame that was not dropped. */
enum fate {
	FATE_HOP,	/* for the core */
	FATE_REPLY,	/* rewritten in place into an answer: transmit */
	FATE_DONE,	/* learned from; free */
};

struct dp_l2l3 {
	struct dp_l2stats st;
	struct dp_iface ifc;
	struct dp_neigh *neigh;
	struct rte_mempool *pool;
	unsigned mtu;
	bool offload_ip, offload_udp;
} __rte_cache_aligned;

static bool all_zero(const uint8_t *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Keep only the flags that describe the buffer itself, not the packet. */
static uint64_t buffer_flags(const struct rte_mbuf *m)
{
	return m->ol_flags & (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL);
}

/* The hop packet starts @hdr bytes in; record who sent it to which listener and port. */
static void deliver(struct rte_mbuf *m, unsigned hdr, uint8_t family, const void *src,
		    const struct rte_udp_hdr *udp, int listener, uint16_t dport)
{
	struct pkt_meta *meta = pkt_meta(m);

	*meta = (struct pkt_meta){
		.peer = { .family = family, .port = rte_be_to_cpu_16(udp->src_port) },
		.listener = (uint16_t)listener,
		.local_port = dport,
	};
	memcpy(meta->peer.addr, src, family == PKT_AF_INET ? 4 : 16);
	rte_pktmbuf_adj(m, (uint16_t)hdr);
}

/* An RX checksum verdict from the NIC: 1 good, -1 bad, 0 check it ourselves. */
static int nic_says(uint64_t flags, uint64_t mask, uint64_t good, uint64_t bad)
{
	flags &= mask;
	/* NONE: "not correct in the packet data, but the integrity is verified". */
	if (flags == good || flags == mask)
		return 1;
	return flags == bad ? -1 : 0;
}

static enum dp_l2stats_drop rx_udp4(const struct dp_l2l3 *l2, struct rte_mbuf *m,
				    struct rte_ipv4_hdr *ip, enum fate *fate)
{
	unsigned ihl = rte_ipv4_hdr_len(ip);
	unsigned len = rte_be_to_cpu_16(ip->total_length) - ihl;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)((uint8_t *)ip + ihl);
	uint16_t dport;
	int nic, listener;

	/* Strict: the UDP length must cover exactly the IP payload. */
	if (len < UDP_LEN || rte_be_to_cpu_16(udp->dgram_len) != len)
		return DP_L2STATS_BAD_UDP_LEN;
	nic = nic_says(m->ol_flags, RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_GOOD,
		       RTE_MBUF_F_RX_L4_CKSUM_BAD);
	/* RFC 768: zero means the sender computed none; the hop layer's AEAD still holds. */
	if (nic < 0 || (nic == 0 && udp->dgram_cksum != 0 && !dp_cksum_udp4_ok(ip, udp)))
		return DP_L2STATS_BAD_UDP_CKSUM;
	if (udp->src_port == 0)
		return DP_L2STATS_BAD_SRC;
	dport = rte_be_to_cpu_16(udp->dst_port);
	listener = dp_iface_listener_find(&l2->ifc, PKT_AF_INET, (const uint8_t *)&ip->dst_addr,
					  dport);
	if (listener < 0)
		return DP_L2STATS_NO_LISTENER;
	deliver(m, ETH_LEN + ihl + UDP_LEN, PKT_AF_INET, &ip->src_addr, udp, listener, dport);
	*fate = FATE_HOP;
	return DP_L2STATS_NONE;
}

static enum dp_l2stats_drop rx_ipv4(struct dp_l2l3 *l2, struct rte_mbuf *m, bool l2_group,
				    enum fate *fate)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, ETH_LEN);
	unsigned avail = rte_pktmbuf_data_len(m) - ETH_LEN;
	unsigned ihl, total;
	bool reply;
	enum dp_l2stats_drop why;

	if (avail < IP4_LEN)
		return DP_L2STATS_RUNT;
	if ((ip->version_ihl >> 4) != 4)
		return DP_L2STATS_BAD_IP_VERSION;
	ihl = rte_ipv4_hdr_len(ip);
	total = rte_be_to_cpu_16(ip->total_length);
	if (ihl < IP4_LEN || ihl > total)
		return DP_L2STATS_BAD_IHL;
	if (total > avail)
		return DP_L2STATS_BAD_IP_LEN;
	switch (nic_says(m->ol_flags, RTE_MBUF_F_RX_IP_CKSUM_MASK, RTE_MBUF_F_RX_IP_CKSUM_GOOD,
			 RTE_MBUF_F_RX_IP_CKSUM_BAD)) {
	case -1:
		return DP_L2STATS_BAD_IP_CKSUM;
	case 0:
		if (rte_raw_cksum(ip, ihl) != 0xffff)
			return DP_L2STATS_BAD_IP_CKSUM;
		break;
	}
	/* RFC 791: more-fragments or an offset means a piece; we never reassemble. */
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return DP_L2STATS_FRAGMENT;
	rte_pktmbuf_trim(m, (uint16_t)(avail - total));

	if (!dp_iface_is_ours(&l2->ifc, PKT_AF_INET, (const uint8_t *)&ip->dst_addr))
		return DP_L2STATS_NOT_OURS;
	if (!dp_iface_unicast(PKT_AF_INET, (const uint8_t *)&ip->src_addr) ||
	    dp_iface_is_ours(&l2->ifc, PKT_AF_INET, (const uint8_t *)&ip->src_addr))
		return DP_L2STATS_BAD_SRC;
	if (l2_group)
		return DP_L2STATS_L2_GROUP;
	switch (ip->next_proto_id) {
	case IPPROTO_UDP:
		return rx_udp4(l2, m, ip, fate);
	case IPPROTO_ICMP:
		why = dp_icmp_input4(&l2->ifc, &l2->st, m, &reply);
		*fate = reply ? FATE_REPLY : FATE_DONE;
		return why;
	default:
		return DP_L2STATS_PROTO;
	}
}

static enum dp_l2stats_drop rx_udp6(const struct dp_l2l3 *l2, struct rte_mbuf *m,
				    struct rte_ipv6_hdr *ip, enum fate *fate)
{
	unsigned len = rte_be_to_cpu_16(ip->payload_len);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t dport;
	int nic, listener;

	if (len < UDP_LEN || rte_be_to_cpu_16(udp->dgram_len) != len)
		return DP_L2STATS_BAD_UDP_LEN;
	/* RFC 8200 8.1: a zero UDP checksum over IPv6 is invalid, NIC or not. */
	if (udp->dgram_cksum == 0)
		return DP_L2STATS_UDP_CKSUM_ZERO;
	nic = nic_says(m->ol_flags, RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_GOOD,
		       RTE_MBUF_F_RX_L4_CKSUM_BAD);
	if (nic < 0 || (nic == 0 && !dp_cksum_udp6_ok(ip, udp)))
		return DP_L2STATS_BAD_UDP_CKSUM;
	if (udp->src_port == 0)
		return DP_L2STATS_BAD_SRC;
	dport = rte_be_to_cpu_16(udp->dst_port);
	listener = dp_iface_listener_find(&l2->ifc, PKT_AF_INET6, ip->dst_addr, dport);
	if (listener < 0)
		return DP_L2STATS_NO_LISTENER;
	deliver(m, ETH_LEN + IP6_LEN + UDP_LEN, PKT_AF_INET6, ip->src_addr, udp, listener,
		dport);
	*fate = FATE_HOP;
	return DP_L2STATS_NONE;
}

/* IANA "IPv6 Extension Header Types" (RFC 8200 4, RFC 7045). */
static bool is_extension_header(uint8_t nh)
{
	switch (nh) {
	case 0: case 43: case 44: case 50: case 51: case 60:
	case 135: case 139: case 140: case 253: case 254:
		return true;
	default:
		return false;
	}
}

static enum dp_l2stats_drop rx_icmp6(struct dp_l2l3 *l2, struct rte_mbuf *m,
				     struct rte_ipv6_hdr *ip, bool l2_group, bool dst_ours,
				     uint64_t now_ns, struct dp_txv *tx, enum fate *fate)
{
	const uint8_t *icmp = (const uint8_t *)(ip + 1);
	enum dp_l2stats_drop why;
	bool reply;

	/* RFC 4443 2.1, 2.3: type, code, checksum; the checksum covers a pseudo-header. */
	if (rte_be_to_cpu_16(ip->payload_len) < 4 || rte_ipv6_udptcp_cksum_verify(ip, icmp) != 0)
		return DP_L2STATS_BAD_ICMP;
	if (icmp[0] == DP_ND_SOLICIT || icmp[0] == DP_ND_ADVERT) {
		why = dp_nd_input(&l2->ifc, l2->neigh, &l2->st, m, now_ns, tx, &reply);
	} else {
		if (!dp_iface_unicast(PKT_AF_INET6, ip->src_addr))
			return DP_L2STATS_BAD_SRC;
		if (!dst_ours)
			return DP_L2STATS_NOT_OURS;
		if (l2_group)
			return DP_L2STATS_L2_GROUP;
		why = dp_icmp_echo6(&l2->ifc, &l2->st, m, &reply);
	}
	*fate = reply ? FATE_REPLY : FATE_DONE;
	return why;
}

static enum dp_l2stats_drop rx_ipv6(struct dp_l2l3 *l2, struct rte_mbuf *m, bool l2_group,
				    uint64_t now_ns, struct dp_txv *tx, enum fate *fate)
{
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, ETH_LEN);
	unsigned avail = rte_pktmbuf_data_len(m) - ETH_LEN;
	unsigned payload;
	bool dst_ours, src_unspecified;

	if (avail < IP6_LEN)
		return DP_L2STATS_RUNT;
	if ((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6)
		return DP_L2STATS_BAD_IP_VERSION;
	payload = rte_be_to_cpu_16(ip->payload_len);
	if (IP6_LEN + payload > avail)
		return DP_L2STATS_BAD_IP_LEN;
	rte_pktmbuf_trim(m, (uint16_t)(avail - IP6_LEN - payload));

	/* Multicast destinations are for neighbour discovery only (checked there). */
	dst_ours = dp_iface_is_ours(&l2->ifc, PKT_AF_INET6, ip->dst_addr);
	if (!dst_ours && ip->dst_addr[0] != 0xff)
		return DP_L2STATS_NOT_OURS;
	/* The unspecified source is legal only in duplicate address detection. */
	src_unspecified = all_zero(ip->src_addr, 16);
	if (!src_unspecified && (!dp_iface_unicast(PKT_AF_INET6, ip->src_addr) ||
				 dp_iface_is_ours(&l2->ifc, PKT_AF_INET6, ip->src_addr)))
		return DP_L2STATS_BAD_SRC;

	if (ip->proto == IPPROTO_ICMPV6)
		return rx_icmp6(l2, m, ip, l2_group, dst_ours, now_ns, tx, fate);
	if (ip->proto != IPPROTO_UDP)
		return is_extension_header(ip->proto) ? DP_L2STATS_IPV6_EXT : DP_L2STATS_PROTO;
	if (!dst_ours)
		return DP_L2STATS_NOT_OURS;
	if (src_unspecified)
		return DP_L2STATS_BAD_SRC;
	if (l2_group)
		return DP_L2STATS_L2_GROUP;
	return rx_udp6(l2, m, ip, fate);
}

static enum dp_l2stats_drop rx_frame(struct dp_l2l3 *l2, struct rte_mbuf *m, uint64_t now_ns,
				     struct dp_txv *tx, enum fate *fate)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	enum dp_l2stats_drop why;
	bool group, reply;

	if (m->nb_segs != 1)
		return DP_L2STATS_SEGMENTED;
	if (rte_pktmbuf_data_len(m) < ETH_LEN)
		return DP_L2STATS_RUNT;
	/* We configure no VLAN; a tag the NIC stripped still means the wrong network. */
	if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)
		return DP_L2STATS_VLAN;
	group = rte_is_multicast_ether_addr(&eth->dst_addr);
	if (!group && !rte_is_same_ether_addr(&eth->dst_addr, &l2->ifc.mac))
		return DP_L2STATS_OTHER_HOST;
	switch (rte_be_to_cpu_16(eth->ether_type)) {
	case RTE_ETHER_TYPE_IPV4:
		return rx_ipv4(l2, m, group, fate);
	case RTE_ETHER_TYPE_IPV6:
		return rx_ipv6(l2, m, group, now_ns, tx, fate);
	case RTE_ETHER_TYPE_ARP:
		why = dp_arp_input(&l2->ifc, l2->neigh, &l2->st, m, now_ns, tx, &reply);
		*fate = reply ? FATE_REPLY : FATE_DONE;
		return why;
	case RTE_ETHER_TYPE_VLAN:
	case RTE_ETHER_TYPE_QINQ:
	case RTE_ETHER_TYPE_QINQ1:
	case RTE_ETHER_TYPE_QINQ2:
	case RTE_ETHER_TYPE_QINQ3:
		return DP_L2STATS_VLAN;
	default:
		return DP_L2STATS_ETHERTYPE;
	}
}

unsigned dp_l2l3_rx(struct dp_l2l3 *l2, struct rte_mbuf **rx, unsigned n, struct rte_mbuf **hop,
		    struct dp_txv *tx, uint64_t now_ns)
{
	unsigned n_hop = 0;

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = rx[i];
		enum fate fate = FATE_DONE;
		enum dp_l2stats_drop why;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(rx[i + 1], void *));
		l2->st.rx_frames++;
		why = rx_frame(l2, m, now_ns, tx, &fate);
		if (why != DP_L2STATS_NONE) {
			rte_pktmbuf_free(m);
			l2->st.rx_dropped[why]++;
			continue;
		}
		switch (fate) {
		case FATE_HOP:
			hop[n_hop++] = m;
			l2->st.rx_hop++;
			break;
		case FATE_REPLY:
			if (!dp_txv_push(tx, m)) {
				rte_pktmbuf_free(m);
				l2->st.rx_dropped[DP_L2STATS_TX_FULL]++;
				break;
			}
			l2->st.rx_handled++;
			break;
		case FATE_DONE:
			rte_pktmbuf_free(m);
			l2->st.rx_handled++;
			break;
		}
	}
	return n_hop;
}

static void put_ipv4(const struct dp_l2l3 *l2, struct rte_mbuf *m, const struct pkt_addr *from,
		     uint16_t sport, const struct pkt_addr *to, unsigned payload)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, ETH_LEN);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint64_t ol = buffer_flags(m);

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(IP4_LEN + UDP_LEN + payload));
	/* RFC 6864 4.1: an atomic datagram (DF, never fragmented) may carry any ID. */
	ip->packet_id = 0;
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = TX_TTL;
	ip->next_proto_id = IPPROTO_UDP;
	ip->hdr_checksum = 0;
	memcpy(&ip->src_addr, from->addr, 4);
	memcpy(&ip->dst_addr, to->addr, 4);
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(to->port);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(UDP_LEN + payload));
	udp->dgram_cksum = 0;

	m->l2_len = ETH_LEN;
	m->l3_len = IP4_LEN;
	m->l4_len = UDP_LEN;
	if (l2->offload_ip)
		ol |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	else
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	/* With UDP offload the NIC wants the pseudo-header sum in place (rte_mbuf_core.h). */
	if (l2->offload_udp) {
		ol |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
		udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, ol);
	} else {
		udp->dgram_cksum = dp_cksum_udp4(ip, udp);
	}
	m->ol_flags = ol;
}

static void put_ipv6(const struct dp_l2l3 *l2, struct rte_mbuf *m, const struct pkt_addr *from,
		     uint16_t sport, const struct pkt_addr *to, unsigned payload)
{
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, ETH_LEN);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint64_t ol = buffer_flags(m);

	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16((uint16_t)(UDP_LEN + payload));
	ip->proto = IPPROTO_UDP;
	ip->hop_limits = TX_TTL;
	memcpy(ip->src_addr, from->addr, 16);
	memcpy(ip->dst_addr, to->addr, 16);
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(to->port);
	udp->dgram_len = ip->payload_len;
	udp->dgram_cksum = 0;

	m->l2_len = ETH_LEN;
	m->l3_len = IP6_LEN;
	m->l4_len = UDP_LEN;
	if (l2->offload_udp) {
		ol |= RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM;
		udp->dgram_cksum = rte_ipv6_phdr_cksum(ip, ol);
	} else {
		/* Never 0 over IPv6: the helper sends a zero sum as 0xffff (RFC 768). */
		udp->dgram_cksum = dp_cksum_udp6(ip, udp);
	}
	m->ol_flags = ol;
}

/* Prepend Ethernet/IP/UDP to the hop packet in @m; @nh gets the next hop. */
static enum dp_l2stats_drop encap(const struct dp_l2l3 *l2, struct rte_mbuf *m, uint8_t nh[16])
{
	const struct pkt_meta *meta = pkt_meta(m);
	const struct pkt_addr *from, *to = &meta->peer;
	struct rte_ether_hdr *eth;
	unsigned payload, l3;
	uint16_t sport, hi;

	if (meta->listener >= l2->ifc.n_listeners)
		return DP_L2STATS_TX_BAD_META;
	from = &l2->ifc.listeners[meta->listener];
	if (to->family != from->family || to->port == 0 ||
	    !dp_iface_unicast(to->family, to->addr))
		return DP_L2STATS_TX_BAD_META;
	/*
	 * A single-port listener sends from its port whatever local_port says (the
	 * core reuses received mbufs for other sessions, on other listeners); a
	 * range listener from the port the sender chose, which must be its own.
	 */
	sport = from->port;
	hi = l2->ifc.listener_port_hi[meta->listener];
	if (hi > sport) {
		if (meta->local_port < sport || meta->local_port > hi)
			return DP_L2STATS_TX_BAD_META;
		sport = meta->local_port;
	}
	if (m->nb_segs != 1)
		return DP_L2STATS_SEGMENTED;
	payload = rte_pktmbuf_data_len(m);
	l3 = to->family == PKT_AF_INET ? IP4_LEN : IP6_LEN;
	if (l3 + UDP_LEN + payload > l2->mtu)
		return DP_L2STATS_TX_TOO_BIG;
	if (!dp_iface_next_hop(&l2->ifc, to->family, to->addr, nh))
		return DP_L2STATS_TX_NO_ROUTE;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, (uint16_t)(ETH_LEN + l3 + UDP_LEN));
	if (!eth)
		return DP_L2STATS_TX_NO_HEADROOM;

	memset(&eth->dst_addr, 0, sizeof(eth->dst_addr));	/* the neighbour cache's job */
	rte_ether_addr_copy(&l2->ifc.mac, &eth->src_addr);
	if (to->family == PKT_AF_INET) {
		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		put_ipv4(l2, m, from, sport, to, payload);
	} else {
		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
		put_ipv6(l2, m, from, sport, to, payload);
	}
	return DP_L2STATS_NONE;
}

void dp_l2l3_tx(struct dp_l2l3 *l2, struct rte_mbuf **pkts, unsigned n, struct dp_txv *tx,
		uint64_t now_ns)
{
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t nh[16];
		enum dp_l2stats_drop why;

		l2->st.tx_packets++;
		why = encap(l2, m, nh);
		if (why != DP_L2STATS_NONE) {
			rte_pktmbuf_free(m);
			l2->st.tx_dropped[why]++;
			continue;
		}
		dp_neigh_output(l2->neigh, pkt_meta(m)->peer.family, nh, m, now_ns, tx);
	}
}

int dp_l2l3_resolve(struct dp_l2l3 *l2, uint8_t family, const uint8_t *dst, struct dp_txv *tx,
		    uint64_t now_ns)
{
	uint8_t nh[16];

	if ((family != PKT_AF_INET && family != PKT_AF_INET6) || !dp_iface_unicast(family, dst))
		return -EINVAL;
	if (!dp_iface_next_hop(&l2->ifc, family, dst, nh))
		return -ENETUNREACH;
	return dp_neigh_resolve(l2->neigh, family, nh, now_ns, tx) ? 0 : -EAGAIN;
}

void dp_l2l3_tick(struct dp_l2l3 *l2, struct dp_txv *tx, uint64_t now_ns)
{
	dp_neigh_tick(l2->neigh, now_ns, tx);
}

/* dp_neigh_solicit_fn: the cache wants an ARP request or a neighbour solicitation. */
static void solicit(void *ctx, uint8_t family, const uint8_t addr[16],
		    const struct rte_ether_addr *unicast, struct dp_txv *tx)
{
	struct dp_l2l3 *l2 = ctx;
	struct rte_mbuf *m;

	if (family == PKT_AF_INET)
		m = dp_arp_request(&l2->ifc, l2->pool, addr, unicast);
	else
		m = dp_nd_solicit(&l2->ifc, l2->pool, addr, unicast);
	if (!m) {
		l2->st.solicit_failed++;
		return;
	}
	if (!dp_txv_push(tx, m)) {
		rte_pktmbuf_free(m);
		l2->st.solicit_failed++;
		return;
	}
	if (family == PKT_AF_INET)
		l2->st.arp_requests_out++;
	else
		l2->st.nd_solicits_out++;
}

const struct dp_l2stats *dp_l2l3_stats(const struct dp_l2l3 *l2)
{
	return &l2->st;
}

const struct dp_iface *dp_l2l3_iface(const struct dp_l2l3 *l2)
{
	return &l2->ifc;
}

const struct dp_neigh *dp_l2l3_neigh(const struct dp_l2l3 *l2)
{
	return l2->neigh;
}

int dp_l2l3_create(struct dp_l2l3 **out, const struct dp_iface *ifc, struct rte_mempool *pool,
		   unsigned neigh_entries, int socket_id, const char **why)
{
	struct dp_l2l3 *l2;
	int ret;

	RTE_BUILD_BUG_ON(DP_L2L3_HEADROOM != ETH_LEN + IP6_LEN + UDP_LEN);
	ret = dp_iface_check(ifc, why);
	if (ret)
		return ret;
	if (!pool || rte_pktmbuf_data_room_size(pool) < RTE_PKTMBUF_HEADROOM + POOL_DATA_MIN) {
		*why = "the solicitation pool's mbufs are too small";
		return -EINVAL;
	}
	l2 = rte_zmalloc_socket("dp_l2l3", sizeof(*l2), RTE_CACHE_LINE_SIZE, socket_id);
	if (!l2) {
		*why = "out of memory for the port's L2/L3 state";
		return -ENOMEM;
	}
	l2->ifc = *ifc;
	l2->pool = pool;
	l2->mtu = dp_iface_mtu(ifc);
	l2->offload_ip = ifc->tx_offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	l2->offload_udp = ifc->tx_offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	ret = dp_neigh_create(&l2->neigh, neigh_entries, socket_id, solicit, l2, &l2->st);
	if (ret) {
		*why = ret == -EINVAL ? "too many neighbour cache entries" :
					"out of memory for the neighbour cache";
		goto err_l2;
	}
	*out = l2;
	return 0;

err_l2:
	rte_free(l2);
	return ret;
}

void dp_l2l3_destroy(struct dp_l2l3 *l2)
{
	if (!l2)
		return;
	dp_neigh_destroy(l2->neigh);
	rte_free(l2);
}
