/*
 * l2stats.h — counters of the Ethernet/IP/UDP layer of one DPDK port: every
 * frame received ends in exactly one outcome, every packet the core hands over
 * for transmission too, and every drop has a named reason.
 *
 *   rx_frames  = rx_hop + rx_handled + sum(rx_dropped[reason])
 *   tx_packets = tx_frames + sum(tx_dropped[reason]) + (packets held in the
 *                neighbour cache right now, waiting for an address to resolve)
 *
 * rx_hop      a UDP datagram for one of our listeners, handed to the core
 * rx_handled  consumed here: ARP, neighbour discovery or an ICMP echo, answered
 *             or learned from
 * tx_frames   hop packets put on the TX vector as Ethernet frames (at once, or
 *             later when a queue was flushed)
 *
 * Frames this layer originates (ARP and ND requests and replies, echo replies)
 * are counted by the event counters, not by tx_frames. A reply that finds the
 * TX vector full is rx_dropped[tx_full]; a solicitation, solicit_failed.
 *
 * Threads: a struct dp_l2stats belongs to one dp_l2l3 instance and is written by
 * the lcore that owns it (plain increments); other threads may read it and see
 * values that are a little stale.
 */
#ifndef POSTERN_DATAPLANE_L2STATS_H
#define POSTERN_DATAPLANE_L2STATS_H

#include <stdint.h>

#include <rte_common.h>

/* Drop reasons, RX and TX. NONE is not a drop: handlers return it for "done". */
#define DP_L2STATS_DROPS(X)						\
	X(NONE, "none")							\
	X(SEGMENTED, "segmented")	/* chained mbuf: headers must be contiguous */ \
	X(RUNT, "runt")			/* shorter than the header it claims */ \
	X(OTHER_HOST, "other_host")	/* unicast to another MAC (promiscuous port) */ \
	X(VLAN, "vlan")			/* 802.1Q/ad tag, in the frame or NIC-stripped */ \
	X(ETHERTYPE, "ethertype")	/* not IPv4, IPv6 or ARP */	\
	X(L2_GROUP, "l2_group")		/* unicast IP to a group MAC (RFC 1122 3.3.6) */ \
	X(BAD_ARP, "bad_arp")		/* not Ethernet/IPv4, bad opcode, group sender MAC */ \
	X(ARP_NOT_OURS, "arp_not_ours")	/* ARP about another host's address */ \
	X(FROM_US, "from_us")		/* ARP/NA claiming our MAC or IP: loop, conflict */ \
	X(BAD_IP_VERSION, "bad_ip_version")				\
	X(BAD_IHL, "bad_ihl")		/* IPv4 header length < 20 or beyond total length */ \
	X(BAD_IP_LEN, "bad_ip_len")	/* total/payload length beyond the frame */ \
	X(BAD_IP_CKSUM, "bad_ip_cksum")					\
	X(FRAGMENT, "fragment")		/* IPv4 MF or offset set; no reassembly */ \
	X(BAD_SRC, "bad_src")		/* martian source address or port 0 */ \
	X(NOT_OURS, "not_ours")		/* destination is not one of our addresses */ \
	X(IPV6_EXT, "ipv6_ext")		/* IPv6 extension header before the payload */ \
	X(PROTO, "proto")		/* neither UDP nor ICMP */	\
	X(BAD_UDP_LEN, "bad_udp_len")	/* UDP length differs from the IP payload length */ \
	X(BAD_UDP_CKSUM, "bad_udp_cksum")				\
	X(UDP_CKSUM_ZERO, "udp_cksum_zero") /* IPv6 UDP without checksum (RFC 8200 8.1) */ \
	X(NO_LISTENER, "no_listener")	/* our address, but no listener on that port */ \
	X(BAD_ICMP, "bad_icmp")		/* short or bad checksum */	\
	X(ICMP_IGNORED, "icmp_ignored")	/* a type we do not answer */	\
	X(BAD_ND, "bad_nd")		/* fails RFC 4861 7.1 validation */ \
	X(ND_NOT_OURS, "nd_not_ours")	/* solicitation for another host's address */ \
	X(TX_FULL, "tx_full")		/* the caller's TX vector had no room */ \
	X(TX_BAD_META, "tx_bad_meta")	/* listener index, family or peer port invalid */ \
	X(TX_NO_HEADROOM, "tx_no_headroom")				\
	X(TX_TOO_BIG, "tx_too_big")	/* IP packet larger than the port's MTU */ \
	X(TX_NO_ROUTE, "tx_no_route")	/* off-link peer and no gateway for its family */ \
	X(NEIGH_QUEUE_FULL, "neigh_queue_full") /* oldest queued packet pushed out */ \
	X(NEIGH_UNRESOLVED, "neigh_unresolved") /* queued too long: no ARP/ND answer */ \
	X(NEIGH_EVICTED, "neigh_evicted") /* queued in an entry the cache recycled */

enum dp_l2stats_drop {
#define DP_L2STATS_DROP_ENUM(name, str) DP_L2STATS_##name,
	DP_L2STATS_DROPS(DP_L2STATS_DROP_ENUM)
#undef DP_L2STATS_DROP_ENUM
	DP_L2STATS_DROP_MAX
};

struct dp_l2stats {
	uint64_t rx_frames, rx_hop, rx_handled;
	uint64_t rx_dropped[DP_L2STATS_DROP_MAX];
	uint64_t tx_packets, tx_frames;
	uint64_t tx_dropped[DP_L2STATS_DROP_MAX];
	uint64_t tx_queued;		/* held for address resolution */
	uint64_t tx_flushed;		/* released from a queue (also in tx_frames) */

	/* ARP (RFC 826, RFC 5227) */
	uint64_t arp_requests_in;	/* for one of our addresses */
	uint64_t arp_replies_in;	/* addressed to one of our addresses */
	uint64_t arp_gratuitous_in;	/* sender == target: announcements */
	uint64_t arp_replies_out, arp_requests_out;
	/* Neighbour discovery (RFC 4861) */
	uint64_t nd_solicits_in, nd_adverts_in;
	uint64_t nd_adverts_out, nd_solicits_out;
	/* ICMP echo (RFC 792, RFC 4443) */
	uint64_t icmp4_echo_replies, icmp6_echo_replies;
	/* Neighbour cache */
	uint64_t neigh_created, neigh_resolved, neigh_changed, neigh_recycled;
	uint64_t solicit_failed;	/* ARP request/NS not sent: pool empty or TX vector full */
} __rte_cache_aligned;

/* @return the reason's metric name, e.g. "bad_ip_cksum"; "?" if out of range. */
const char *dp_l2stats_drop_name(enum dp_l2stats_drop reason);

/* Sums of rx_dropped[] and tx_dropped[]. */
uint64_t dp_l2stats_rx_dropped(const struct dp_l2stats *s);
uint64_t dp_l2stats_tx_dropped(const struct dp_l2stats *s);

#endif /* POSTERN_DATAPLANE_L2STATS_H */
