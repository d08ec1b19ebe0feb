/*
 * l2l3.h — the Ethernet/IPv4/IPv6/UDP layer of one DPDK port: everything
 * between a frame on the wire and the relay core's hop packet (relay/pkt.h).
 *
 * RX: dp_l2l3_rx() takes a burst of frames and sorts each into exactly one of
 *   - a hop packet for the core: IPv4 or IPv6 UDP to one of our listeners,
 *     fully validated, L2-L4 stripped, struct pkt_meta filled in;
 *   - handled here: ARP (arp.h), neighbour discovery (nd.h), ICMP echo
 *     (icmp.h) — answers are built in the same mbuf and go to the TX vector;
 *   - dropped, counted under a named reason (l2stats.h).
 * TX: dp_l2l3_tx() takes hop packets from the core (pkt_meta.peer is the
 *   destination, pkt_meta.listener the local address and port to send from;
 *   for a listener with a port range, pkt_meta.local_port picks the port),
 *   prepends UDP, IPv4/IPv6 and Ethernet headers, fills in checksums (or asks
 *   the NIC to, per dp_iface.tx_offloads) and resolves the next hop's MAC
 *   through the neighbour cache (neigh.h), which may hold the packet until
 *   ARP/ND answers.
 *
 * RX policy, one counter per reason (l2stats.h): untagged Ethernet II only
 * (VLAN-tagged frames dropped); IPv4 header length, version, total length,
 * header checksum checked, options allowed, fragments dropped; IPv6 with UDP
 * or ICMPv6 directly after the fixed header (extension headers dropped); UDP
 * length must equal the IP payload length; the UDP checksum is verified in
 * software unless the mbuf's RX flags carry the NIC's verdict (GOOD or NONE
 * accept, BAD drops); an IPv4 UDP checksum of 0 means "none" (RFC 768) and is
 * accepted, an IPv6 one is invalid (RFC 8200 8.1); sources that cannot be a
 * unicast host (or are our own) and source port 0 are dropped; TTL/hop limit
 * is not looked at except by ND, which requires 255.
 *
 * The ethdev worker loop, per port and queue pair:
 *
 *	struct rte_mbuf *rx[BURST], *hop[BURST], *slots[TXV_CAP];
 *	struct dp_txv tx;
 *
 *	dp_txv_init(&tx, slots, TXV_CAP);
 *	n = rte_eth_rx_burst(port, q, rx, BURST);
 *	nh = dp_l2l3_rx(l2, rx, n, hop, &tx, now_ns);     consumes rx[0..n)
 *	... the core turns hop[0..nh) into out[0..k) ...
 *	dp_l2l3_tx(l2, out, k, &tx, now_ns);               consumes out[0..k)
 *	if (now_ns >= next_tick) dp_l2l3_tick(l2, &tx, now_ns);   every ~100 ms
 *	sent = rte_eth_tx_burst(port, q, tx.m, tx.n);
 *	rte_pktmbuf_free_bulk(tx.m + sent, tx.n - sent);   the caller owns tx.m[]
 *
 * Resolving without a packet: dp_l2l3_resolve() asks the neighbour cache for
 * the next hop toward an address and solicits it (ARP request or neighbour
 * solicitation, at most one per DP_NEIGH_SOLICIT_NS) when its MAC is not
 * known, so that a sender can learn the MAC before its first packet, which
 * would otherwise wait in the cache's short queue (DP_NEIGH_QUEUE_LEN).
 *
 * TX vector size: never to drop, give dp_l2l3_rx() room for
 * DP_L2L3_RX_TXV_MAX(n) frames and dp_l2l3_tx() for DP_L2L3_TX_TXV_MAX(k);
 * a tick adds one frame per unresolved neighbour with packets waiting. In
 * steady state rx adds a few replies and tx adds k. Frames that find no room
 * are freed and counted (tx_full, solicit_failed).
 *
 * Mbufs: single-segment. RX mbufs must be writable (direct, refcnt 1), as
 * ethdev delivers them, and come from a pool with a PKT_PRIV_SIZE private
 * area, with data room for a whole frame (MTU + 14). TX mbufs need
 * DP_L2L3_HEADROOM bytes of headroom before the hop packet (DPDK's default
 * RTE_PKTMBUF_HEADROOM of 128 is plenty).
 * Solicitations are allocated from the pool given to dp_l2l3_create().
 *
 * Threads: a dp_l2l3 (with its neighbour cache and counters) is owned by one
 * lcore and every call comes from it; only the counters may be read from other
 * threads (dp_l2l3_stats(), see l2stats.h). Several workers on one port each
 * need their own dp_l2l3. ARP and ND are not spread by RSS: they land on one
 * queue, so only that queue's worker learns neighbours and sees the answers
 * to the others' solicitations. Until the ethdev backend copies ARP/ND frames
 * to every worker of the port (each answers; duplicate ARP replies and NAs are
 * harmless), run one worker per port.
 */
#ifndef POSTERN_DATAPLANE_L2L3_H
#define POSTERN_DATAPLANE_L2L3_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/iface.h"
#include "dataplane/l2stats.h"
#include "dataplane/neigh.h"
#include "dataplane/txv.h"

/* Ethernet + IPv6 + UDP: the most dp_l2l3_tx() prepends. */
#define DP_L2L3_HEADROOM		(14 + 40 + 8)
/* Worst-case TX vector use of one call with @n packets (see above). */
#define DP_L2L3_RX_TXV_MAX(n)		((n) * (1 + DP_NEIGH_QUEUE_LEN))
#define DP_L2L3_TX_TXV_MAX(n)		((n) * 2)

struct dp_l2l3;

/*
 * Create the layer for one port: a copy of @ifc (checked by dp_iface_check()),
 * a neighbour cache of @neigh_entries (0: default), memory on @socket_id.
 * ARP requests and neighbour solicitations are allocated from @pool.
 * @return 0; -EINVAL (bad @ifc or @pool) or -ENOMEM, with @why (a static
 * string) saying what is wrong.
 */
int dp_l2l3_create(struct dp_l2l3 **out, const struct dp_iface *ifc, struct rte_mempool *pool,
		   unsigned neigh_entries, int socket_id, const char **why);

/* Free the layer and any packets its neighbour cache still holds. NULL: no-op. */
void dp_l2l3_destroy(struct dp_l2l3 *l2);

/*
 * Classify @n received frames. Consumes rx[0..n): hop packets go to
 * hop[0..return) (room for @n), in the order they came, with data at the UDP
 * payload and pkt_meta set (peer = sender's address and port, listener =
 * index into dp_iface.listeners, local_port = the destination port; the
 * core-private fields zeroed); replies, and packets
 * released by neighbours that became resolved, are appended to @tx; the rest
 * is freed and counted. The caller owns hop[] and what was appended to @tx.
 * @return the number of hop packets.
 */
unsigned dp_l2l3_rx(struct dp_l2l3 *l2, struct rte_mbuf **rx, unsigned n, struct rte_mbuf **hop,
		    struct dp_txv *tx, uint64_t now_ns);

/*
 * Encapsulate @n hop packets from the core and append the frames to @tx.
 * Each leaves from listener pkt_meta.listener: its port, or for a port-range
 * listener pkt_meta.local_port, which must lie in the range (else the packet
 * is dropped as tx_bad_meta). Consumes pkts[0..n): each is appended to @tx,
 * held by the neighbour cache (appended by a later dp_l2l3_rx() or dropped by
 * dp_l2l3_tick()), or freed and counted. ARP requests / neighbour
 * solicitations it triggers are appended to @tx as well.
 */
void dp_l2l3_tx(struct dp_l2l3 *l2, struct rte_mbuf **pkts, unsigned n, struct dp_txv *tx,
		uint64_t now_ns);

/*
 * Make sure the MAC of the next hop toward @dst (4 or 16 bytes by @family) is
 * known or being asked for: an unknown next hop gets an entry and a
 * solicitation, appended to @tx (broadcast ARP request or multicast neighbour
 * solicitation; at most one per DP_NEIGH_SOLICIT_NS however often this is
 * called). Sends nothing for a known next hop.
 * @return 0 when the MAC is known (REACHABLE or STALE), -EAGAIN while it is
 * being resolved (call again, and keep receiving: the answer comes through
 * dp_l2l3_rx()), -ENETUNREACH when @dst has no next hop (off-link, no
 * gateway), -EINVAL for a @dst that is not a unicast address.
 */
int dp_l2l3_resolve(struct dp_l2l3 *l2, uint8_t family, const uint8_t *dst, struct dp_txv *tx,
		    uint64_t now_ns);

/* Neighbour cache housekeeping (dp_neigh_tick()); may append solicitations to @tx. */
void dp_l2l3_tick(struct dp_l2l3 *l2, struct dp_txv *tx, uint64_t now_ns);

/* The counters; any thread may read them (see l2stats.h). */
const struct dp_l2stats *dp_l2l3_stats(const struct dp_l2l3 *l2);

/* The port's configuration and neighbour cache, for introspection. */
const struct dp_iface *dp_l2l3_iface(const struct dp_l2l3 *l2);
const struct dp_neigh *dp_l2l3_neigh(const struct dp_l2l3 *l2);

#endif /* POSTERN_DATAPLANE_L2L3_H */
