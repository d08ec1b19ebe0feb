/*
 * arp.h — ARP for IPv4 over Ethernet (RFC 826): answer requests for our
 * addresses, learn senders into the neighbour cache, build requests.
 *
 * Every request for one of our addresses is answered, broadcast or unicast,
 * including RFC 5227 probes (sender 0.0.0.0): a Linux peer moves its entry for
 * us through STALE to FAILED and then silently drops if nobody answers.
 *
 * Learning follows RFC 826's merge rule: a sender already in the cache is
 * refreshed by any ARP packet (so a gratuitous ARP moves a known address to its
 * new MAC); a new entry is made only when the packet is addressed to one of
 * our addresses. Gratuitous ARP from an unknown host creates nothing.
 *
 * Threads: the lcore that owns @nc and @st.
 */
#ifndef POSTERN_DATAPLANE_ARP_H
#define POSTERN_DATAPLANE_ARP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/iface.h"
#include "dataplane/l2stats.h"
#include "dataplane/neigh.h"
#include "dataplane/txv.h"

/*
 * Handle one ARP frame: single-segment @m, data at the Ethernet header, sent
 * to our MAC or a group address, ethertype ARP. A request for one of our
 * addresses is rewritten in place into the reply. Learned addresses may flush
 * queued packets onto @tx.
 * @return DP_L2STATS_NONE when handled, with *reply true if @m is now the
 * reply to transmit (else the caller frees it); otherwise the drop reason
 * (the caller frees @m and counts it). Counts the arp_* events.
 */
enum dp_l2stats_drop dp_arp_input(const struct dp_iface *ifc, struct dp_neigh *nc,
				  struct dp_l2stats *st, struct rte_mbuf *m, uint64_t now_ns,
				  struct dp_txv *tx, bool *reply);

/*
 * Build an ARP request for @tip (4 bytes) from one of our addresses, to
 * @unicast, or broadcast if NULL, in a new mbuf from @pool.
 * @return the frame (the caller owns it), or NULL when @pool is empty or we
 * have no IPv4 address.
 */
struct rte_mbuf *dp_arp_request(const struct dp_iface *ifc, struct rte_mempool *pool,
				const uint8_t *tip, const struct rte_ether_addr *unicast);

#endif /* POSTERN_DATAPLANE_ARP_H */
