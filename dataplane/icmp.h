/*
 * icmp.h — ICMP echo for a DPDK port: answer pings to our addresses (RFC 792,
 * RFC 4443 4.1-4.2) so operators and health checks can see the port is alive.
 * Nothing else in ICMP is answered; everything else is counted and dropped.
 *
 * Replies are built in the request's mbuf. A request with IPv4 options is not
 * answered (RFC 1122 3.2.2.6 would have us process record-route and timestamp
 * options; we do not implement them).
 *
 * Threads: the lcore that owns @st.
 */
#ifndef POSTERN_DATAPLANE_ICMP_H
#define POSTERN_DATAPLANE_ICMP_H

#include <stdbool.h>

#include <rte_mbuf.h>

#include "dataplane/iface.h"
#include "dataplane/l2stats.h"

/*
 * Handle one ICMPv4 message: single-segment @m at the Ethernet header, its
 * IPv4 header already validated (length trimmed to total_length, header
 * checksum good, not a fragment, destination one of our unicast addresses,
 * source unicast). Checks the ICMP length and checksum.
 * @return DP_L2STATS_NONE with *reply true when @m is now the echo reply to
 * transmit; otherwise the drop reason (the caller frees @m and counts it).
 */
enum dp_l2stats_drop dp_icmp_input4(const struct dp_iface *ifc, struct dp_l2stats *st,
				    struct rte_mbuf *m, bool *reply);

/*
 * Answer one ICMPv6 echo request: @m as above with a validated IPv6 header
 * (no extension headers), ICMPv6 checksum already verified by the caller
 * (it dispatches ICMPv6 between echo and neighbour discovery), type 128.
 * @return as dp_icmp_input4().
 */
enum dp_l2stats_drop dp_icmp_echo6(const struct dp_iface *ifc, struct dp_l2stats *st,
				   struct rte_mbuf *m, bool *reply);

#endif /* POSTERN_DATAPLANE_ICMP_H */
