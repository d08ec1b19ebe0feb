/*
 * flowport.c — flow ports and frame classification for the DPDK transport
 * (flowport.h).
 */
#include "bench/relaybench/flowport.h"

#include <errno.h>

enum {
	ETH_LEN = 14,
	ARP_LEN = 28,			/* Ethernet/IPv4 ARP (RFC 826) */
	IP4_MIN = 20,
	IP6_LEN = 40,
	UDP_LEN = 8,
	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_ARP = 0x0806,
	ETHERTYPE_IPV6 = 0x86dd,
	PROTO_UDP = 17,
	PROTO_ICMPV6 = 58,
	ARP_OP_REPLY = 2,
	ND_ADVERT = 136,		/* RFC 4861 4.4 */
	IP4_MF_OFFSET = 0x3fff,		/* more-fragments flag and fragment offset */
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int flowport_plan_init(struct flowport_plan *p, unsigned threads, unsigned n_bind)
{
	if (!threads || threads > FLOWPORT_THREADS_MAX || !n_bind || n_bind > FLOWPORT_BIND_MAX)
		return -EINVAL;
	*p = (struct flowport_plan){
		.threads = threads,
		.n_bind = n_bind,
		.span = FLOWPORT_RANGE / threads,
	};
	return 0;
}

uint32_t flowport_capacity(const struct flowport_plan *p)
{
	return p->span * p->n_bind;
}

uint16_t flowport_port_hi(const struct flowport_plan *p)
{
	return (uint16_t)(FLOWPORT_FIRST + p->span * p->threads - 1);
}

int flowport_local(const struct flowport_plan *p, unsigned thread, uint32_t flow,
		   unsigned *bind, uint16_t *port)
{
	if (thread >= p->threads)
		return -EINVAL;
	if (flow >= flowport_capacity(p))
		return -ENOSPC;
	*bind = flow % p->n_bind;
	*port = (uint16_t)(FLOWPORT_FIRST + thread * p->span + flow / p->n_bind);
	return 0;
}

bool flowport_owner(const struct flowport_plan *p, unsigned bind, uint16_t port,
		    unsigned *thread, uint32_t *flow)
{
	uint32_t off;

	if (bind >= p->n_bind || port < FLOWPORT_FIRST)
		return false;
	off = (uint32_t)port - FLOWPORT_FIRST;
	/* The ports past the last whole block belong to nobody. */
	if (off >= p->span * p->threads)
		return false;
	*thread = off / p->span;
	*flow = (off % p->span) * p->n_bind + bind;
	return true;
}

static enum flowport_kind peek_arp(const uint8_t *arp, size_t len)
{
	/* RFC 826 over Ethernet/IPv4: sender IP at 14, target IP at 24. */
	if (len < ARP_LEN)
		return FLOWPORT_OTHER;
	if (be16(arp + 6) == ARP_OP_REPLY)
		return FLOWPORT_NEIGH_ANSWER;
	/* Sender = target: an announcement (RFC 5227 3). */
	for (unsigned i = 0; i < 4; i++)
		if (arp[14 + i] != arp[24 + i])
			return FLOWPORT_OTHER;
	return FLOWPORT_NEIGH_ANSWER;
}

static enum flowport_kind peek_ipv4(const uint8_t *ip, size_t len, struct flowport_frame *f)
{
	size_t ihl;

	if (len < IP4_MIN || ip[0] >> 4 != 4)
		return FLOWPORT_OTHER;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	/* A fragment's first bytes after the header are not a UDP header to trust. */
	if (ihl < IP4_MIN || ip[9] != PROTO_UDP || (be16(ip + 6) & IP4_MF_OFFSET) ||
	    len < ihl + UDP_LEN)
		return FLOWPORT_OTHER;
	f->family = 4;
	f->src_off = ETH_LEN + 12;
	f->dst_off = ETH_LEN + 16;
	f->l4_off = (uint16_t)(ETH_LEN + ihl);
	f->src_port = be16(ip + ihl);
	f->dst_port = be16(ip + ihl + 2);
	return FLOWPORT_UDP;
}

static enum flowport_kind peek_ipv6(const uint8_t *ip, size_t len, struct flowport_frame *f)
{
	if (len < IP6_LEN || ip[0] >> 4 != 6)
		return FLOWPORT_OTHER;
	if (ip[6] == PROTO_ICMPV6)
		return len > IP6_LEN && ip[IP6_LEN] == ND_ADVERT ? FLOWPORT_NEIGH_ANSWER
								 : FLOWPORT_OTHER;
	if (ip[6] != PROTO_UDP || len < IP6_LEN + UDP_LEN)
		return FLOWPORT_OTHER;
	f->family = 6;
	f->src_off = ETH_LEN + 8;
	f->dst_off = ETH_LEN + 24;
	f->l4_off = ETH_LEN + IP6_LEN;
	f->src_port = be16(ip + IP6_LEN);
	f->dst_port = be16(ip + IP6_LEN + 2);
	return FLOWPORT_UDP;
}

enum flowport_kind flowport_peek(const uint8_t *frame, size_t len, struct flowport_frame *f)
{
	if (len < ETH_LEN)
		return FLOWPORT_OTHER;
	switch (be16(frame + 12)) {
	case ETHERTYPE_IPV4:
		return peek_ipv4(frame + ETH_LEN, len - ETH_LEN, f);
	case ETHERTYPE_IPV6:
		return peek_ipv6(frame + ETH_LEN, len - ETH_LEN, f);
	case ETHERTYPE_ARP:
		return peek_arp(frame + ETH_LEN, len - ETH_LEN);
	default:
		return FLOWPORT_OTHER;	/* VLAN tags included: the layer below drops them */
	}
}
