/*
 * pkt.h — the contract between a dataplane backend and the relay core about
 * one packet.
 *
 * Both backends (DPDK ethdev and kernel sockets) hand the core rte_mbufs whose
 * data starts at the hop packet: the UDP payload. Whatever the backend knows
 * about the outer headers that the core needs — the peer's address and port,
 * which local listener received it — lives in the mbuf's private area as a
 * struct pkt_meta. On transmit the core writes the peer to send to in the
 * same place and the backend builds the outer headers (or picks the socket).
 *
 * The core never includes a socket or ethdev header; addresses are plain bytes.
 *
 * Threads: an mbuf and its meta belong to whichever worker holds the mbuf.
 */
#ifndef POSTERN_RELAY_PKT_H
#define POSTERN_RELAY_PKT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

enum {
	PKT_AF_INET = 4,
	PKT_AF_INET6 = 6,
};

/* An IPv4 or IPv6 address and UDP port; IPv4 uses addr[0..3], the rest zero. */
struct pkt_addr {
	uint8_t family;		/* PKT_AF_INET or PKT_AF_INET6 */
	uint8_t reserved;
	uint16_t port;		/* host byte order */
	uint8_t addr[16];	/* network byte order */
};

struct pkt_meta {
	struct pkt_addr peer;	/* RX: who sent it. TX: whom to send it to. */
	uint16_t listener;	/* which local address/port received it; TX leaves from the same */
	/*
	 * The local UDP port. RX: the port it arrived on (the DPDK backend's
	 * dp_l2l3 fills it; the socket backend leaves it as it was). TX: the
	 * port to send from, read only for a listener that spans a port range
	 * (dataplane/iface.h); a single-port listener sends from its port.
	 */
	uint16_t local_port;
	uint32_t handoff;	/* core-private: what a cross-worker handoff asks of the owner */
	uint64_t aux;		/* core-private */
};

/* Every mbuf pool the relay uses is created with at least this private area. */
#define PKT_PRIV_SIZE RTE_ALIGN_CEIL(sizeof(struct pkt_meta), RTE_MBUF_PRIV_ALIGN)

static inline struct pkt_meta *pkt_meta(struct rte_mbuf *m)
{
	return (struct pkt_meta *)rte_mbuf_to_priv(m);
}

/* Bytes of the address that identify the source for cookies: 4 or 16. */
static inline unsigned pkt_addr_len(const struct pkt_addr *a)
{
	return a->family == PKT_AF_INET ? 4 : 16;
}

static inline bool pkt_addr_equal(const struct pkt_addr *a, const struct pkt_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->addr, b->addr, pkt_addr_len(a)) == 0;
}

#endif /* POSTERN_RELAY_PKT_H */
