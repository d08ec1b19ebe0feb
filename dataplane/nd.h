/*
 * nd.h — IPv6 neighbour discovery for a DPDK port (RFC 4861): answer
 * neighbour solicitations for our addresses with advertisements, learn from
 * solicitations and advertisements, build solicitations.
 *
 * Solicitations are answered whether they come to our address, to its
 * solicited-node multicast group, or from the unspecified address (duplicate
 * address detection: RFC 4861 7.2.4, the advertisement then goes to all-nodes
 * with S clear, which defends our address). Advertisements carry R=0 (we are
 * no router), O=1 and our MAC as target link-layer address.
 *
 * Learning (RFC 4861 7.2.3, 7.2.5): a solicitation with a source link-layer
 * option creates or updates the sender's entry as STALE; an advertisement only
 * updates an existing entry — REACHABLE if solicited, and a different MAC only
 * replaces the known one when the override flag is set.
 *
 * Threads: the lcore that owns @nc and @st.
 */
#ifndef POSTERN_DATAPLANE_ND_H
#define POSTERN_DATAPLANE_ND_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/iface.h"
#include "dataplane/l2stats.h"
#include "dataplane/neigh.h"
#include "dataplane/txv.h"

enum {
	DP_ND_SOLICIT = 135,	/* ICMPv6 types, RFC 4861 4.3-4.4 */
	DP_ND_ADVERT = 136,
};

/*
 * Handle one NS or NA: single-segment @m at the Ethernet header, IPv6 header
 * validated (no extension headers, payload trimmed to payload_len, source
 * neither multicast nor ours, destination ours or multicast), ICMPv6 checksum
 * verified, type DP_ND_SOLICIT or DP_ND_ADVERT. An NS for one of our addresses
 * is rewritten in place into the NA. Learned addresses may flush queued packets
 * onto @tx.
 * @return DP_L2STATS_NONE when handled, with *reply true if @m is now the
 * advertisement to transmit (else the caller frees it); otherwise the drop
 * reason (the caller frees @m and counts it). Counts the nd_* events.
 */
enum dp_l2stats_drop dp_nd_input(const struct dp_iface *ifc, struct dp_neigh *nc,
				 struct dp_l2stats *st, struct rte_mbuf *m, uint64_t now_ns,
				 struct dp_txv *tx, bool *reply);

/*
 * Build a neighbour solicitation for @target (16 bytes) from one of our IPv6
 * addresses: to @unicast and @target itself (a reachability probe), or to the
 * solicited-node multicast group of @target if @unicast is NULL. New mbuf from
 * @pool. @return the frame (the caller owns it), or NULL when @pool is empty
 * or we have no IPv6 address.
 */
struct rte_mbuf *dp_nd_solicit(const struct dp_iface *ifc, struct rte_mempool *pool,
			       const uint8_t *target, const struct rte_ether_addr *unicast);

#endif /* POSTERN_DATAPLANE_ND_H */
